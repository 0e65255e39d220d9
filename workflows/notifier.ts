import {
  ActivityFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PlaneActivities } from '../activities';
import type { ChannelDelivery, DeliveryResult } from '../common';

export interface NotifierInput {
  watermark?: string | null;
  controlsSeq?: number;
  /** Pause between passes (default 5). */
  intervalSeconds?: number;
  /** How far behind the watermark each pass re-scans closed attempts, for visibility lag (default 60). */
  overlapSeconds?: number;
  totals?: { passes: number; started: number };
}

export interface NotifierStatus {
  watermark: string | null;
  controlsSeq: number;
  passes: number;
  started: number;
  lastPassAt: string | null;
}

/** Wakes the notifier for an immediate pass. */
export const notifyNowSignal = defineSignal('notifyNow');
export const notifierStatusQuery = defineQuery<NotifierStatus>('notifierStatus');

// A pass that fails (Temporal unavailable) is retried with backoff until it succeeds; a pass is idempotent.
const { scanNotifications } = proxyActivities<PlaneActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m' },
});

const MAX_HISTORY_EVENTS = 2000;

/**
 * The notifier (singleton, ID `ecp-notifier`): every `intervalSeconds` (or on `notifyNow`) one `scanNotifications`
 * pass finds new events of attempts and of the freeze log and starts one `notification` workflow per event, whose ID
 * is the event's dedup key. It reads visibility and records only: it is never on an attempt's decision or
 * enforcement path, and an attempt's history does not change because notifications are on.
 */
export async function notifier(input: NotifierInput = {}): Promise<void> {
  const status: NotifierStatus = {
    watermark: input.watermark ?? null,
    controlsSeq: input.controlsSeq ?? 0,
    passes: input.totals?.passes ?? 0,
    started: input.totals?.started ?? 0,
    lastPassAt: null,
  };
  let wake = false;
  setHandler(notifyNowSignal, () => {
    wake = true;
  });
  setHandler(notifierStatusQuery, () => status);
  for (;;) {
    wake = false;
    const result = await scanNotifications({
      watermark: status.watermark,
      controlsSeq: status.controlsSeq,
      overlapSeconds: input.overlapSeconds ?? 60,
    });
    status.watermark = result.watermark;
    status.controlsSeq = result.controlsSeq;
    status.passes++;
    status.started += result.started;
    status.lastPassAt = new Date().toISOString();
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS) {
      await continueAsNew<typeof notifier>({
        ...input,
        watermark: status.watermark,
        controlsSeq: status.controlsSeq,
        totals: { passes: status.passes, started: status.started },
      });
    }
    await condition(() => wake, (input.intervalSeconds ?? 5) * 1000);
  }
}

export interface NotificationInput {
  deliveries: ChannelDelivery[];
  maxAttempts: number;
}

/** The delivery record of one event, per channel (also the workflow's result). */
export const deliveryStatusQuery = defineQuery<DeliveryResult[]>('deliveryStatus');

/**
 * Delivers one event on each of its channels, in parallel, each retried up to `maxAttempts` tries with backoff, and
 * records each as `delivered` or `failed` (after the last try) — its result and history are the delivery record. Its
 * workflow ID (`ecp-notify:<event ID>`) makes each event delivered at most once per channel by ECP.
 */
export async function notification(input: NotificationInput): Promise<DeliveryResult[]> {
  const results: DeliveryResult[] = [];
  setHandler(deliveryStatusQuery, () => results);
  await Promise.all(
    input.deliveries.map(async (delivery) => {
      const { deliverNotification } = proxyActivities<PlaneActivities>({
        startToCloseTimeout: '30s',
        retry: { maximumAttempts: input.maxAttempts, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
      });
      try {
        const { tries } = await deliverNotification(delivery);
        results.push({ channel: delivery.channel, status: 'delivered', tries, error: null, at: new Date().toISOString() });
      } catch (err) {
        const cause = err instanceof ActivityFailure && err.cause ? err.cause.message : (err as Error).message;
        results.push({ channel: delivery.channel, status: 'failed', tries: input.maxAttempts, error: cause, at: new Date().toISOString() });
      }
    }),
  );
  return results;
}
