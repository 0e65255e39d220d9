import type { Client as TemporalClient } from '@temporalio/client';
import proto from '@temporalio/proto';

const { EventType } = proto.temporal.api.enums.v1;

/**
 * Where one run's time goes (ms, median over the c=1 samples), from its workflow's history event times and the
 * caller's clock (the same machine): caller → workflow started; started → first workflow task completed (an ECP
 * attempt's evaluation: context, policy and seal in one local activity; baseline (a)'s no-op local activity; baseline
 * (b)'s scheduling of its activity); → activity (the executor) started; the activity's run; activity completed →
 * workflow closed (the closing workflow task); closed → caller has the result.
 */
export interface CallSegments {
  toStarted: number;
  evaluation: number;
  toExecutor: number;
  executor: number;
  closing: number;
  toCaller: number;
}

/** One timed c=1 run: its workflow (attempt) ID and the caller's clock (ms since the epoch) before and after. */
export interface TimedCall {
  attemptId: string;
  sent: number;
  answered: number;
}

/** Median segments of the given runs (see {@link CallSegments}), from each one's history. Read-only. */
export async function segmentsOf(client: TemporalClient, calls: TimedCall[]): Promise<CallSegments> {
  const rows: CallSegments[] = [];
  for (const call of calls) {
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: call.attemptId },
    });
    const events = (history?.events ?? []).map((e) => ({
      type: e.eventType,
      at: e.eventTime ? Number(e.eventTime.seconds) * 1000 + (e.eventTime.nanos ?? 0) / 1e6 : NaN,
    }));
    const at = (type: proto.temporal.api.enums.v1.EventType) => events.find((e) => e.type === type)?.at ?? NaN;
    const started = at(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    const evaluated = at(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    const executorStarted = at(EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
    const executorDone = at(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
    const closed = events[events.length - 1]?.at ?? NaN;
    rows.push({
      toStarted: started - call.sent,
      evaluation: evaluated - started,
      toExecutor: executorStarted - evaluated,
      executor: executorDone - executorStarted,
      closing: closed - executorDone,
      toCaller: call.answered - closed,
    });
  }
  const median = (k: keyof CallSegments) => {
    const xs = rows
      .map((r) => r[k])
      .filter((x) => Number.isFinite(x))
      .sort((a, b) => a - b);
    return xs.length === 0 ? NaN : Math.round(xs[xs.length >> 1]! * 10) / 10;
  };
  return {
    toStarted: median('toStarted'),
    evaluation: median('evaluation'),
    toExecutor: median('toExecutor'),
    executor: median('executor'),
    closing: median('closing'),
    toCaller: median('toCaller'),
  };
}

/** The segments' values in {@link CallSegments}' order (the order of every table and log line). */
export function segmentValues(x: CallSegments): number[] {
  return [x.toStarted, x.evaluation, x.toExecutor, x.executor, x.closing, x.toCaller];
}

/** The segments as one log line's values: "6.5 / 46.1 / …". */
export function formatSegments(x: CallSegments): string {
  return segmentValues(x)
    .map((v) => v.toFixed(1))
    .join(' / ');
}
