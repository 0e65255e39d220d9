import type { HistoryJson } from './pack/schema';
import type { JSONPayload } from './payloads';

/** A history event in proto3 JSON; only the attributes ECP reads are typed. */
/**
 * A failure as history stores it. ECP's failure converter moves the message into `encodedAttributes` (a payload the
 * codec encrypts); `message` then reads "Encoded failure". Read it with `failureText` (audit/timeline.ts).
 */
export interface HistoryFailure {
  message?: string;
  encodedAttributes?: JSONPayload;
}

export interface HistoryEvent {
  eventId: string | number;
  eventTime?: string;
  eventType: string;
  workflowExecutionStartedEventAttributes?: { workflowId?: string; workflowType?: { name?: string }; input?: { payloads?: JSONPayload[] } };
  workflowExecutionCompletedEventAttributes?: { result?: { payloads?: JSONPayload[] } };
  workflowTaskStartedEventAttributes?: { workerVersion?: { buildId?: string } };
  workflowTaskCompletedEventAttributes?: { workerVersion?: { buildId?: string }; binaryChecksum?: string };
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string }; activityId?: string };
  activityTaskStartedEventAttributes?: { scheduledEventId?: string; attempt?: number; lastFailure?: HistoryFailure };
  activityTaskCompletedEventAttributes?: { scheduledEventId?: string; result?: { payloads?: JSONPayload[] } };
  activityTaskFailedEventAttributes?: { scheduledEventId?: string; failure?: HistoryFailure };
  activityTaskTimedOutEventAttributes?: { scheduledEventId?: string; failure?: HistoryFailure };
  markerRecordedEventAttributes?: {
    markerName?: string;
    details?: Record<string, { payloads?: JSONPayload[] }>;
    failure?: HistoryFailure;
  };
  timerStartedEventAttributes?: { timerId?: string; startToFireTimeout?: string };
  timerFiredEventAttributes?: { timerId?: string; startedEventId?: string | number };
  workflowExecutionSignaledEventAttributes?: { signalName?: string; input?: { payloads?: JSONPayload[] } };
  workflowExecutionUpdateAcceptedEventAttributes?: {
    acceptedRequest?: { meta?: { updateId?: string }; input?: { name?: string; args?: { payloads?: JSONPayload[] } } };
  };
  workflowExecutionUpdateCompletedEventAttributes?: {
    meta?: { updateId?: string };
    outcome?: { success?: { payloads?: JSONPayload[] }; failure?: HistoryFailure };
  };
  workflowExecutionCancelRequestedEventAttributes?: { cause?: string; identity?: string };
  workflowExecutionFailedEventAttributes?: { failure?: HistoryFailure };
}

export const EVENT = {
  started: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
  completed: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  activityScheduled: 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
  activityStarted: 'EVENT_TYPE_ACTIVITY_TASK_STARTED',
  activityCompleted: 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED',
  activityFailed: 'EVENT_TYPE_ACTIVITY_TASK_FAILED',
  activityTimedOut: 'EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT',
  marker: 'EVENT_TYPE_MARKER_RECORDED',
  timerStarted: 'EVENT_TYPE_TIMER_STARTED',
  timerFired: 'EVENT_TYPE_TIMER_FIRED',
  signaled: 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
  updateAccepted: 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED',
  updateCompleted: 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED',
  cancelRequested: 'EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED',
} as const;

/** Close events: a history ending in one of these is of a closed workflow. */
export const CLOSE_EVENTS = [
  'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED',
  'EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT',
  'EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED',
  'EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED',
  'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW',
];

export const eventsOf = (history: HistoryJson) => history.events as unknown as HistoryEvent[];

/** The workflow ID from the start event (servers before 1.24 may omit it). */
export function historyWorkflowId(history: HistoryJson): string | undefined {
  return eventsOf(history)[0]?.workflowExecutionStartedEventAttributes?.workflowId;
}

/** Distinct worker build IDs in history order (the plane's are `ecp@<version>+<workflow code digest hex>`). */
export function historyBuildIds(history: HistoryJson): string[] {
  const ids: string[] = [];
  for (const e of eventsOf(history)) {
    const id = e.workflowTaskCompletedEventAttributes?.workerVersion?.buildId ?? e.workflowTaskCompletedEventAttributes?.binaryChecksum;
    if (id && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

/** `sha256:<hex>` from a build ID ending in `+<64 hex>`, or null for one without a digest. */
export function bundleDigestFromBuildId(buildId: string): string | null {
  const match = /\+([0-9a-f]{64})$/.exec(buildId);
  return match ? `sha256:${match[1]}` : null;
}

/** Name of the local activity a `core_local_activity` marker records (the data detail is JSON), or null. */
export function localActivityType(event: HistoryEvent): string | null {
  const attrs = event.markerRecordedEventAttributes;
  if (attrs?.markerName !== 'core_local_activity') return null;
  const data = attrs.details?.data?.payloads?.[0]?.data;
  if (!data) return null;
  try {
    const parsed = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { activity_type?: string; activityType?: string };
    return parsed.activity_type ?? parsed.activityType ?? null;
  } catch {
    return null;
  }
}
