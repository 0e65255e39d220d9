import type { KeyObject } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  FailureType,
  NOTIFICATION_ID_PREFIX,
  NOTIFICATION_TASK_QUEUE,
  NOTIFICATION_WORKFLOW_TYPE,
  ATTEMPT_TYPE_CLAUSE,
  type ChannelDelivery,
} from '../../common';
import { EcpClient } from '../../client/ecpClient';
import { readControls } from '../../client/controls';
import { ListingSealVerifier } from '../../client/listingSeal';
import type { PlaneRuntime } from '../../config/runtime';
import { sendEmail, sendWebhook } from './deliver';
import { attemptEvents, controlsEvents, messageFor, type NotificationEvent } from './events';

export interface ScanNotificationsInput {
  /** Close time from which closed attempts are (re)scanned; null on the first pass (from now). */
  watermark: string | null;
  /** The last freeze-log sequence already notified. */
  controlsSeq: number;
  /** How far behind the watermark each pass re-scans, for visibility lag. */
  overlapSeconds: number;
}

export interface ScanNotificationsResult {
  watermark: string;
  controlsSeq: number;
  started: number;
  scanned: number;
}

/** Call-to-action events are only worth sending while the attempt still waits. */
const WHILE_WAITING = new Set(['awaiting_decision', 'reminder', 'escalated']);
/** Started delivery IDs this process remembers, to spare the server a start it would refuse (dedup stays the server's). */
const STARTED_MEMORY = 20_000;

export function createNotificationActivities(runtime: PlaneRuntime, planeKey: KeyObject) {
  const started = new Set<string>();
  // History length per running attempt at the last pass: an unchanged attempt has no new event and is not queried.
  const seenLength = new Map<string, number>();
  // Closed attempts whose events this process has handed out already: the overlap re-scan skips them before any read.
  const closedDone = new Set<string>();
  const verifier = new ListingSealVerifier(planeKey);

  async function startDelivery(event: NotificationEvent): Promise<boolean> {
    const config = runtime.config;
    const notifications = config.notifications;
    if (!notifications) return false;
    const workflowId = `${NOTIFICATION_ID_PREFIX}${event.id}`;
    if (started.has(workflowId)) return false;
    const deliveries: ChannelDelivery[] = [];
    for (const [name, channel] of Object.entries(notifications.channels)) {
      const message = messageFor(event, channel, config);
      if (message) deliveries.push({ channel: name, message });
    }
    if (deliveries.length > 0) {
      try {
        // The workflow ID is the dedup key: Temporal refuses a second start under it, running or closed (within retention).
        await Context.current().client.workflow.start(NOTIFICATION_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: NOTIFICATION_TASK_QUEUE,
          args: [{ deliveries, maxAttempts: notifications.maxAttempts }],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }
    if (started.size >= STARTED_MEMORY) started.clear();
    started.add(workflowId);
    return deliveries.length > 0;
  }

  return {
    /**
     * One pass of the notifier: finds the attempts that are running or closed since the watermark (sealed ones only:
     * workflows started around the plane are never notified), derives their events and starts one delivery workflow
     * per event not delivered yet; likewise for new freeze-log entries. Idempotent (dedup by workflow ID), so retries
     * and overlapping passes are safe. Reads records and visibility only: it never touches an attempt.
     */
    async scanNotifications(input: ScanNotificationsInput): Promise<ScanNotificationsResult> {
      const ctx = Context.current();
      const passStart = new Date();
      const ecp = new EcpClient(ctx.client, runtime.config, verifier);
      const from = new Date((input.watermark ? Date.parse(input.watermark) : passStart.getTime()) - input.overlapSeconds * 1000);
      const query = `${ATTEMPT_TYPE_CLAUSE} AND (ExecutionStatus = "Running" OR CloseTime >= "${from.toISOString()}")`;
      let count = 0;
      let scanned = 0;
      const running = new Set<string>();
      for await (const info of ctx.client.workflow.list({ query })) {
        if (!ecp.isSealed(info)) continue;
        const isRunning = info.status.name === 'RUNNING';
        if (!isRunning && closedDone.has(info.runId)) continue;
        let historyLength = 0;
        if (isRunning) {
          running.add(info.runId);
          // Visibility's history length moves only when the attempt publishes; describe reads the live one, and an
          // attempt whose history did not grow has no new event (a describe is far cheaper than a query).
          try {
            historyLength = (await ctx.client.workflow.getHandle(info.workflowId, info.runId).describe()).historyLength;
          } catch {
            continue;
          }
          if (seenLength.get(info.runId) === historyLength) continue;
        }
        let record;
        try {
          record = await ecp.getRecord(info.workflowId);
        } catch {
          continue; // an attempt that cannot be read now is read again next pass
        }
        scanned++;
        for (const event of attemptEvents(record)) {
          if (WHILE_WAITING.has(event.kind) && record.status !== 'AWAITING_DECISION') continue;
          if (await startDelivery(event)) count++;
        }
        if (isRunning) seenLength.set(info.runId, historyLength);
        else {
          if (closedDone.size >= STARTED_MEMORY) closedDone.clear();
          closedDone.add(info.runId);
        }
        ctx.heartbeat(scanned);
      }
      for (const runId of seenLength.keys()) if (!running.has(runId)) seenLength.delete(runId);
      let controlsSeq = input.controlsSeq;
      // A freeze log that cannot be read now is read next pass (from the same sequence): attempts' events still go out.
      const state = runtime.config.controls ? await readControls(ctx.client).catch(() => null) : null;
      if (state) {
        for (const event of controlsEvents(
          state.log.filter((e) => e.seq > input.controlsSeq),
          runtime.config,
        ))
          if (await startDelivery(event)) count++;
        controlsSeq = state.seq;
      }
      return { watermark: passStart.toISOString(), controlsSeq, started: count, scanned };
    },

    /**
     * Delivers one event on one channel (webhook or e-mail). Retried by the delivery workflow up to the configured
     * tries; the receiver gets the same event ID on every try (`X-Ecp-Event-Id`, the e-mail's Message-ID) to drop copies.
     */
    async deliverNotification({ channel, message }: ChannelDelivery): Promise<{ tries: number; sent: boolean }> {
      const notifications = runtime.config.notifications;
      const spec = notifications?.channels[channel];
      if (!notifications || !spec)
        throw ApplicationFailure.nonRetryable(`notification channel "${channel}" is no longer configured`, FailureType.ConfigurationError);
      let sent = true;
      if (spec.webhook) await sendWebhook(spec.webhook, message);
      else if (spec.email) sent = await sendEmail(spec.email, notifications.emails, message);
      return { tries: Context.current().info.attempt, sent };
    },
  };
}
