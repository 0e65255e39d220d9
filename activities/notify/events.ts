import {
  describeScope,
  type AttemptRecord,
  type ControlsLogEntry,
  type NotificationEventKind,
  type NotificationMessage,
} from '../../common';
import type { PlaneConfig } from '../../config/load';
import type { NotificationChannelConfig } from '../../config/schema';

/** An event before routing: who it concerns (directory humans), and the message minus the channel's choices. */
export interface NotificationEvent {
  /** Dedup key: `<attempt ID or "controls">:<event>:<sequence>`. */
  id: string;
  kind: NotificationEventKind;
  at: string;
  text: string;
  detail: string | null;
  audience: string[];
  record: AttemptRecord | null;
}

const STATUS_EVENTS: Partial<Record<string, NotificationEventKind>> = {
  AWAITING_DECISION: 'awaiting_decision',
  SUCCEEDED: 'executed',
  FAILED: 'failed',
  EXPIRED: 'expired',
};

/**
 * Every notifiable event of an attempt so far, each with a stable sequence (its position in the timeline or in the
 * accepted decisions), so scanning the same attempt again yields the same IDs. Pure.
 */
export function attemptEvents(record: AttemptRecord): NotificationEvent[] {
  const { proposal, attemptId } = record;
  const what = `${proposal.actionType} by ${proposal.agent} on ${proposal.resource}`;
  const out: NotificationEvent[] = [];
  const add = (kind: NotificationEventKind, seq: number, at: string, text: string, detail: string | null, audience: string[]) =>
    out.push({ id: `${attemptId}:${kind}:${seq}`, kind, at, text, detail, audience, record });
  record.timeline.forEach((entry, i) => {
    const kind =
      entry.event === 'reminder' || entry.event === 'escalated' || entry.event === 'overridden'
        ? entry.event
        : entry.event
          ? undefined
          : STATUS_EVENTS[entry.status];
    if (!kind) return;
    const note = entry.note ?? null;
    if (kind === 'awaiting_decision') add(kind, i, entry.at, `awaiting your decision: ${what}`, deadlineNote(record), deciders(record));
    else if (kind === 'reminder')
      add(kind, i, entry.at, `reminder — still awaiting a decision: ${what}`, note ?? deadlineNote(record), deciders(record));
    else if (kind === 'escalated') add(kind, i, entry.at, `escalated — now awaiting your decision: ${what}`, note, deciders(record));
    else if (kind === 'overridden') add(kind, i, entry.at, `OVERRIDDEN: ${what}`, note, involved(record));
    else if (kind === 'executed') add(kind, i, entry.at, `executed: ${what}`, null, involved(record));
    else if (kind === 'failed')
      add(
        kind,
        i,
        entry.at,
        `failed: ${what}`,
        record.outcome && !record.outcome.ok ? record.outcome.error.message : note,
        involved(record),
      );
    else if (kind === 'expired')
      add(kind, i, entry.at, `expired without a sufficient decision (nothing ran): ${what}`, note, involved(record));
  });
  record.decisions.accepted.forEach((d, i) => {
    if (d.verdict !== 'approve' && d.verdict !== 'reject') return;
    add(
      'decided',
      i,
      d.decidedAt,
      `${d.verdict === 'approve' ? 'approved' : 'rejected'} by ${d.human}: ${what}`,
      d.reason || null,
      involved(record),
    );
  });
  return out;
}

/** The freeze log's events: `frozen` / `unfrozen`, for the freeze group and the owner of a frozen agent. */
export function controlsEvents(log: readonly ControlsLogEntry[], config: PlaneConfig): NotificationEvent[] {
  const group = config.controls?.freezeGroup;
  return log.map((entry) => {
    const kind = entry.op === 'freeze' ? 'frozen' : 'unfrozen';
    const audience = new Set(
      Object.entries(config.directory.humans)
        .filter(([, h]) => group && h.groups.includes(group))
        .map(([id]) => id),
    );
    if (entry.scope.kind === 'agent') {
      const owner = Object.hasOwn(config.directory.agents, entry.scope.agent)
        ? config.directory.agents[entry.scope.agent]?.owner
        : undefined;
      if (owner) audience.add(owner);
    }
    return {
      id: `controls:${kind}:${entry.seq}`,
      kind,
      at: entry.at,
      text: `${kind === 'frozen' ? 'FROZEN' : 'unfrozen'}: ${describeScope(entry.scope)} by ${entry.human}`,
      detail: entry.reason,
      audience: [...audience].sort(),
      record: null,
    } satisfies NotificationEvent;
  });
}

/**
 * The channel's message for an event, or null when the channel does not take it: not among its `events`, or no
 * recipient left after its routing (`groups`/`humans`, against the live directory). Parameters only with `parameters: true`.
 */
export function messageFor(event: NotificationEvent, channel: NotificationChannelConfig, config: PlaneConfig): NotificationMessage | null {
  if (channel.events && !channel.events.includes(event.kind)) return null;
  const routed = channel.groups || channel.humans;
  const recipients = event.audience.filter((human) => {
    if (!routed) return true;
    if (channel.humans?.includes(human)) return true;
    const entry = Object.hasOwn(config.directory.humans, human) ? config.directory.humans[human] : undefined;
    return Boolean(entry && channel.groups?.some((g) => entry.groups.includes(g)));
  });
  if (recipients.length === 0) return null;
  const r = event.record;
  const consoleUrl = config.notifications!.consoleUrl.replace(/\/+$/, '');
  return {
    id: event.id,
    event: event.kind,
    at: event.at,
    text: event.text,
    link: r ? `${consoleUrl}/attempts/${encodeURIComponent(r.attemptId)}` : null,
    attempt: r
      ? {
          attemptId: r.attemptId,
          status: r.status,
          agent: r.proposal.agent,
          actionType: r.proposal.actionType,
          resource: r.proposal.resource,
          ...(channel.parameters ? { parameters: r.proposal.parameters } : {}),
        }
      : null,
    detail: event.detail,
    recipients,
  };
}

/**
 * Humans who may still decide: members of a group a requirement not met yet names — to approve, or to override where
 * policy allows it (`@override_by`) — never the agent's owner, not those who decided.
 */
function deciders(record: AttemptRecord): string[] {
  const directory = record.context?.directory;
  if (!directory) return [];
  const owner = directory.agent?.owner;
  const decided = new Set(record.decisions.accepted.map((d) => d.human));
  const groups = new Set(record.requirements.filter((r) => !r.met).flatMap((r) => [...r.groups, ...(r.overrideBy ?? [])]));
  return Object.entries(directory.humans)
    .filter(([id, h]) => id !== owner && id !== record.proposal.agent && !decided.has(id) && h.groups.some((g) => groups.has(g)))
    .map(([id]) => id)
    .sort();
}

/** Humans an outcome concerns: the agent's owner and whoever decided. */
function involved(record: AttemptRecord): string[] {
  const out = new Set(record.decisions.accepted.map((d) => d.human));
  const owner = record.context?.directory.agent?.owner;
  if (owner) out.add(owner);
  return [...out].sort();
}

function deadlineNote(record: AttemptRecord): string | null {
  return record.deadline ? `deadline ${record.deadline}` : null;
}
