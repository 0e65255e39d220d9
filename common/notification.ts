/*
 * Notifications' contract (docs/kill-switch-and-notifications.md): what the notifier sends and what each delivery
 * records. Types and names only; sandbox-safe.
 */

/** The notifier is a singleton: one workflow with this ID per namespace, started idempotently by every plane. */
export const NOTIFIER_WORKFLOW_ID = 'ecp-notifier';
/**
 * The notifier and its deliveries run on their own task queue, served by a worker with few slots (worker/plane.ts),
 * so a burst of deliveries trickles out instead of competing with attempts for the plane's slots.
 */
export const NOTIFICATION_TASK_QUEUE = 'ecp-notifications';
/** Workflow type of the notifier (workflows/notifier.ts). */
export const NOTIFIER_WORKFLOW_TYPE = 'notifier';
/** One delivery workflow per event, ID `ecp-notify:<attempt ID or "controls">:<event>:<sequence>`: the dedup key. */
export const NOTIFICATION_WORKFLOW_TYPE = 'notification';
/** Prefix of delivery workflow IDs. */
export const NOTIFICATION_ID_PREFIX = 'ecp-notify:';

/** Header of a webhook delivery: `t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>.<body>">`. */
export const WEBHOOK_SIGNATURE_HEADER = 'X-Ecp-Signature';
/** Header naming the event (its dedup key): a receiver that sees it twice (a retry after a lost answer) drops the copy. */
export const WEBHOOK_EVENT_ID_HEADER = 'X-Ecp-Event-Id';

/** What happened: the events a notification channel can take (ecp.yaml `events`). */
export type NotificationEventKind =
  'awaiting_decision' | 'reminder' | 'escalated' | 'decided' | 'overridden' | 'executed' | 'failed' | 'expired' | 'frozen' | 'unfrozen';

/** The message of one event, as every channel receives it (the webhook's `json` body). Never the proposal's claims or facts. */
export interface NotificationMessage {
  /** The dedup key: `<attempt ID or "controls">:<event>:<sequence>`. */
  id: string;
  event: NotificationEventKind;
  /** When the event happened (the attempt's timeline, the decision, or the freeze log). */
  at: string;
  /** One line a human reads first. */
  text: string;
  /** Deep link to the console's attempt page (attempt events only). */
  link: string | null;
  attempt: {
    attemptId: string;
    status: string;
    agent: string;
    actionType: string;
    resource: string;
    /** Only on channels configured with `parameters: true`. */
    parameters?: Record<string, unknown>;
  } | null;
  /** The decision, override, reminder, escalation or freeze this event is about, in words. */
  detail: string | null;
  /** The humans (directory IDs) this event is for, after the channel's routing. */
  recipients: string[];
}

/** One channel's delivery of one event. */
export interface ChannelDelivery {
  channel: string;
  message: NotificationMessage;
}

/** What a delivery workflow records per channel. */
export interface DeliveryResult {
  channel: string;
  status: 'delivered' | 'failed';
  /** Tries made (1 … maxAttempts). */
  tries: number;
  error: string | null;
  at: string;
}
