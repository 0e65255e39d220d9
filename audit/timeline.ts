import type { LoadedDataConverter } from '@temporalio/common';
import type { z } from 'zod';
import type { AttemptRecord, DecisionResult, JsonValue, SignedDecision } from '../common';
import { adviceSchemas } from '../common/advice';
import { recordSchemas } from '../common/record';
import { EVENT, eventsOf, localActivityType, type HistoryEvent, type HistoryFailure } from './history';
import type { HistoryJson } from './pack/schema';
import { decodeFirst, decodeJsonPayload } from './payloads';

export type TimelineKind =
  'proposal' | 'context' | 'advice' | 'waiting' | 'decision' | 'deadline' | 'recheck' | 'enforcement' | 'outcome' | 'cancel';

/** One step of an attempt as its history tells it. */
export interface TimelineStep {
  at: string;
  eventId: number;
  kind: TimelineKind;
  title: string;
  details: string[];
  /** Time since the attempt started, and since the previous step. */
  sinceStartMs: number;
  sincePreviousMs: number;
  /** For steps with a start and an end (activities): how long the step itself took. */
  tookMs?: number;
}

export interface AttemptTimeline {
  attemptId: string | null;
  status: string | null;
  steps: TimelineStep[];
}

const ms = (iso?: string) => (iso ? Date.parse(iso) : NaN);

/**
 * A readable timeline from a proto3-JSON history: proposal, context (facts), advice (policy ids), each decision with
 * the plane's answer (accepted, or refused with code and why), re-check, enforcement (executor start, attempts,
 * result) and outcome, with timestamps and durations. Context and policy steps are read from activity events or from
 * `core_local_activity` markers, whichever the workflow code used. Undecodable payloads are shown as such.
 */
export async function buildTimeline(
  history: HistoryJson,
  converter: LoadedDataConverter,
  record: AttemptRecord | null = null,
): Promise<AttemptTimeline> {
  const events = eventsOf(history);
  const steps: Omit<TimelineStep, 'sinceStartMs' | 'sincePreviousMs'>[] = [];
  const decode = async <T>(list: { payloads?: unknown[] | null } | undefined | null): Promise<T | null> => {
    try {
      return await decodeFirst<T>(list as never, converter);
    } catch {
      return null;
    }
  };
  // A failure's message is an encoded (with encryption on: encrypted) payload; without the key it stays unreadable.
  const failureText = async (failure: HistoryFailure | undefined): Promise<string> => {
    if (!failure?.encodedAttributes) return failure?.message ?? '';
    try {
      const attrs = await decodeJsonPayload<{ message?: unknown }>(failure.encodedAttributes, converter);
      return typeof attrs?.message === 'string' ? attrs.message : (failure.message ?? '');
    } catch {
      return '(failure message encrypted; pass the payload codec to read it)';
    }
  };
  const scheduled = new Map<string, { name: string; at: string; attempts: number }>();
  const updates = new Map<string, SignedDecision | null>();
  // Governance wake-ups (escalation, reminder, end of a ratification window) are timers too: the record's timeline
  // entries say which one fired, so they are not mistaken for the decision deadline (docs/governance.md).
  const completed = events.find((e) => e.eventType === EVENT.completed);
  const known =
    record ??
    (completed ? parsed(recordSchemas().attemptRecord, await decode(completed.workflowExecutionCompletedEventAttributes?.result)) : null);
  const wakeUps = (known?.timeline ?? []).filter(
    (t) => t.event === 'escalated' || t.event === 'reminder' || t.event === 'ratification_missed',
  );
  let contexts = 0;
  let advices = 0;
  const taskBoundaryTimers = new Set<string>();
  const add = (e: HistoryEvent, kind: TimelineKind, title: string, details: string[] = [], tookMs?: number) =>
    steps.push({ at: e.eventTime ?? '', eventId: Number(e.eventId), kind, title, details, ...(tookMs !== undefined ? { tookMs } : {}) });

  const onContext = (e: HistoryEvent, result: unknown, tookMs?: number) => {
    const c = parsed(recordSchemas().attemptContext, result);
    const first = contexts++ === 0;
    const details = c
      ? [
          `facts: ${Object.keys(c.facts ?? {}).length ? JSON.stringify(c.facts) : 'none'}`,
          ...(c.factsError ? [`facts unavailable: ${c.factsError}`] : []),
          ...c.problems.map((p) => `problem: ${p}`),
          `directory ${c.directory.version}, policy bundle ${c.bundleVersion}`,
        ]
      : ['(payload not readable)'];
    add(e, first ? 'context' : 'recheck', first ? 'context captured' : 're-check: fresh context captured', details, tookMs);
  };
  const onAdvice = (e: HistoryEvent, result: unknown, tookMs?: number) => {
    const a = parsed(adviceSchemas().advice, result);
    const first = advices++ === 0;
    const title = a ? `${first ? 'advice' : 're-check advice'}: ${a.verdict}` : first ? 'advice' : 're-check advice';
    const details = a
      ? [`policies: ${a.policyIds.join(', ') || '— (default deny)'}`, ...a.reasons.map((r) => `- ${r}`), ...a.errors.map((x) => `! ${x}`)]
      : ['(payload not readable)'];
    add(e, first ? 'advice' : 'recheck', title, details, tookMs);
  };

  const onResult = (e: HistoryEvent, name: string, result: unknown, tookMs?: number) => {
    if (name === 'gatherContext') {
      onContext(e, result, tookMs);
    } else if (name === 'evaluatePolicy') {
      onAdvice(e, result, tookMs);
    } else if (name === 'evaluateAttempt') {
      // One-step evaluation (activities/evaluation.ts): the context and the advice given on it, in one result.
      const r = result as { context?: unknown; advice?: unknown; policyError?: unknown } | null;
      onContext(e, r?.context, tookMs);
      if (r?.advice != null) onAdvice(e, r.advice);
      else
        add(e, 'advice', 'policy could not be evaluated', [typeof r?.policyError === 'string' ? r.policyError : '(payload not readable)']);
    } else if (name === 'executeAction') {
      add(e, 'enforcement', 'executor succeeded', [`result: ${JSON.stringify(result as JsonValue)}`.slice(0, 500)], tookMs);
    }
  };

  for (const e of events) {
    switch (e.eventType) {
      case EVENT.started: {
        const input = await decode<{ proposal?: { agent?: string; actionType?: string; resource?: string; parameters?: unknown } }>(
          e.workflowExecutionStartedEventAttributes?.input,
        );
        const p = input?.proposal;
        add(
          e,
          'proposal',
          p ? `proposal: ${p.agent} → ${p.actionType} on ${p.resource}` : 'proposal',
          p
            ? [`parameters: ${JSON.stringify(p.parameters)}`, ...(record ? [`proposal hash ${record.proposalHash}`] : [])]
            : ['(payload not readable)'],
        );
        break;
      }
      case EVENT.activityScheduled: {
        const a = e.activityTaskScheduledEventAttributes!;
        scheduled.set(String(e.eventId), { name: a.activityType?.name ?? '?', at: e.eventTime ?? '', attempts: 0 });
        if (a.activityType?.name === 'executeAction')
          add(e, 'enforcement', 'enforcement: executor scheduled with the authorised arguments');
        break;
      }
      case EVENT.activityStarted: {
        const s = scheduled.get(String(e.activityTaskStartedEventAttributes?.scheduledEventId));
        if (s) s.attempts = e.activityTaskStartedEventAttributes?.attempt ?? 1;
        break;
      }
      case EVENT.activityCompleted: {
        const s = scheduled.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
        if (!s) break;
        const took = ms(e.eventTime) - ms(s.at);
        onResult(e, s.name, await decode(e.activityTaskCompletedEventAttributes?.result), took);
        if (s.name === 'executeAction' && s.attempts > 1) steps.at(-1)!.details.push(`after ${s.attempts} attempts`);
        break;
      }
      case EVENT.activityFailed:
      case EVENT.activityTimedOut: {
        const attrs = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
        const s = scheduled.get(String(attrs?.scheduledEventId));
        if (!s) break;
        const kind: TimelineKind = s.name === 'executeAction' ? 'enforcement' : s.name === 'gatherContext' ? 'context' : 'advice';
        add(
          e,
          kind,
          `${s.name === 'executeAction' ? 'executor' : s.name} failed after ${s.attempts || 1} attempt(s)`,
          [await failureText(attrs?.failure)],
          ms(e.eventTime) - ms(s.at),
        );
        break;
      }
      case EVENT.marker: {
        const name = localActivityType(e);
        if (!name) break;
        const m = e.markerRecordedEventAttributes!;
        if (m.failure)
          add(e, name === 'gatherContext' || name === 'evaluateAttempt' ? 'context' : 'advice', `${name} failed`, [
            await failureText(m.failure),
          ]);
        else onResult(e, name, await decode(m.details?.result));
        break;
      }
      case EVENT.timerStarted: {
        // A 1 ms timer only starts a fresh workflow task (ECP 0.4's quiet wait, a slice of buffered signals): no wait.
        if (e.timerStartedEventAttributes?.startToFireTimeout === '0.001s') {
          taskBoundaryTimers.add(String(e.eventId));
          break;
        }
        const deadline = record?.deadline;
        add(e, 'waiting', 'awaiting decision', [
          `timeout ${e.timerStartedEventAttributes?.startToFireTimeout ?? '?'}${deadline ? `, deadline ${deadline}` : ''}`,
        ]);
        break;
      }
      case EVENT.timerFired: {
        if (taskBoundaryTimers.has(String(e.timerFiredEventAttributes?.startedEventId))) break;
        // The entries the woken workflow task wrote: within a second of the timer firing.
        const fired = wakeUps.filter((t) => Math.abs(ms(t.at) - ms(e.eventTime ?? '')) < 1_000);
        for (const t of fired) {
          wakeUps.splice(wakeUps.indexOf(t), 1);
          add(e, 'waiting', t.event === 'ratification_missed' ? 'ratification window ended' : (t.event ?? ''), [t.note ?? '']);
        }
        // A governance wake-up with nothing left to do (the requirement was met meanwhile) is not the deadline either.
        const early = known?.governance && known.deadline !== null && ms(e.eventTime ?? '') < ms(known.deadline);
        if (fired.length === 0) {
          if (early) add(e, 'waiting', 'woke for an escalation or reminder no longer needed');
          else add(e, 'deadline', 'decision deadline passed (fail closed)');
        }
        break;
      }
      case EVENT.signaled: {
        const attrs = e.workflowExecutionSignaledEventAttributes!;
        if (attrs.signalName === 'controlsChanged') {
          const recheck = known?.timeline.find((t) => t.event === 'controls_changed' && ms(t.at) >= ms(e.eventTime ?? ''));
          add(e, 'recheck', 'controls changed: early re-check while waiting', recheck?.note ? [recheck.note] : []);
          break;
        }
        const d = await decode<SignedDecision>(attrs.input);
        add(e, 'decision', `decision via signal: ${describeDecision(d)}`, [signalAnswer(d, record)]);
        break;
      }
      case EVENT.updateAccepted: {
        const req = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
        updates.set(req?.meta?.updateId ?? '', await decode<SignedDecision>(req?.input?.args));
        break;
      }
      case EVENT.updateCompleted: {
        const attrs = e.workflowExecutionUpdateCompletedEventAttributes!;
        const d = updates.get(attrs.meta?.updateId ?? '') ?? null;
        const answer = await decode<DecisionResult>(attrs.outcome?.success);
        const verdict = answer
          ? answer.accepted
            ? `accepted — ${answer.message}`
            : `refused (${answer.code}): ${answer.message}`
          : attrs.outcome?.failure
            ? await failureText(attrs.outcome.failure)
            : '?';
        add(e, 'decision', `decision via update: ${describeDecision(d)}`, [verdict]);
        break;
      }
      case EVENT.cancelRequested:
        add(e, 'cancel', 'cancellation requested', [e.workflowExecutionCancelRequestedEventAttributes?.identity ?? '']);
        break;
      case EVENT.completed: {
        const r = parsed(recordSchemas().attemptRecord, await decode(e.workflowExecutionCompletedEventAttributes?.result));
        const last = r?.timeline.at(-1);
        add(e, 'outcome', `outcome: ${r?.status ?? 'completed'}`, [
          ...(last?.note ? [last.note] : []),
          ...(r?.outcome
            ? [
                r.outcome.ok
                  ? `result: ${JSON.stringify(r.outcome.result)}`.slice(0, 500)
                  : `error: ${r.outcome.error.type}: ${r.outcome.error.message}`,
              ]
            : []),
          ...(r?.enforcement?.blockedReason ? [`blocked: ${r.enforcement.blockedReason}`] : []),
          ...(r ? [`record digest ${r.digest}`] : []),
        ]);
        break;
      }
      default:
        if (e.eventType.startsWith('EVENT_TYPE_WORKFLOW_EXECUTION_') && e.eventType !== 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED') {
          if (/FAILED|TIMED_OUT|TERMINATED|CANCELED/.test(e.eventType))
            add(e, 'outcome', `workflow ${e.eventType.replace('EVENT_TYPE_WORKFLOW_EXECUTION_', '').toLowerCase()}`, [
              await failureText(e.workflowExecutionFailedEventAttributes?.failure),
            ]);
        }
    }
  }
  const start = ms(steps[0]?.at);
  let previous = start;
  const timed = steps.map((s) => {
    const t = ms(s.at);
    const step = { ...s, sinceStartMs: t - start, sincePreviousMs: t - previous };
    previous = t;
    return step;
  });
  const first = events[0]?.workflowExecutionStartedEventAttributes;
  return { attemptId: first?.workflowId ?? record?.attemptId ?? null, status: record?.status ?? null, steps: timed };
}

function describeDecision(d: SignedDecision | null): string {
  if (!d?.statement) return 'malformed decision';
  const s = d.statement;
  const overrides = s.overrides ? ` OVERRIDDEN: ${s.overrides.join(', ')}` : '';
  return `${s.human} ${s.verdict}${overrides}${s.reason ? ` ("${s.reason}")` : ''}`;
}

/** A signal has no answer in history; the record says whether it counted (matched by signature). */
function signalAnswer(d: SignedDecision | null, record: AttemptRecord | null): string {
  if (!record) return 'outcome not known without the record';
  if (d && record.decisions.accepted.some((a) => a.signature === d.signature && a.via === 'signal')) return 'accepted';
  const refused = record.decisions.refused.find((r) => r.via === 'signal' && (d ? r.signature === d.signature : r.signature === null));
  return refused ? `refused (${refused.code}): ${refused.message}` : 'not in the record';
}

/** A payload read from history, parsed against its schema; null (shown as not readable) when it does not fit. */
function parsed<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | null {
  const result = schema.safeParse(value);
  return result.success ? result.data : null;
}
