import { ensureNotifier } from '../../client/notifier';
import { NOTIFIER_WORKFLOW_ID } from '../../common';
import { parseDuration } from '../../common/duration';
import type { BenchEnv } from '../env';
import { benchRefund, sleep } from '../load';
import { summarize, type Summary } from '../stats';

/** Auto-allow latency with the demo's notifications off vs on (docs/kill-switch-and-notifications.md). */
export interface NotificationsResult {
  /** The notifier's pass interval from the demo config (seconds). */
  pollSeconds: number;
  /** Attempts per block, and off/on rounds (blocks interleaved: off, on, off, on …). */
  block: number;
  rounds: number;
  latencyMs: { off: Summary; on: Summary };
  /** Median of each block, in order: their spread among the "off" blocks is this run's noise. */
  blockP50: { off: number[]; on: number[] };
  ratios: { p50: number; p95: number };
  /** Spread of the "off" block medians (max ÷ min): a ratio within it is within the run's noise. */
  offBlockSpread: number;
  /** Attempts run while the notifier was on, and how many of their `executed` events the receiver got. */
  onAttempts: number;
  executedDelivered: number;
  /** Every notification the demo target's receiver accepted during the scenario (signatures verified). */
  webhookDeliveries: number;
}

/**
 * Sequential auto-allowed attempts in interleaved blocks, the notifier off then on, on the same plane and server: the
 * demo config's webhook channel takes every event, so "on" delivers one `executed` message per attempt to the demo
 * target's receiver, which verifies each signature. "Off" terminates the notifier (deliveries it already started may
 * still finish); turning it on again waits until the backlog its first pass finds has been delivered.
 */
export async function runNotifications(
  env: BenchEnv,
  options: { block: number; rounds: number; log: (s: string) => void },
): Promise<NotificationsResult> {
  const notifications = env.runtime.config.notifications;
  if (!notifications) throw new Error('the demo config has no notifications section (examples/demo/setup.ts demoGovernanceConfig)');
  const pollSeconds = parseDuration(notifications.pollInterval);
  const off = () =>
    env.client.workflow
      .getHandle(NOTIFIER_WORKFLOW_ID)
      .terminate('bench: notifications off')
      .catch(() => undefined);
  const autoAllow = async (): Promise<{ ms: number; attemptId: string }> => {
    const t0 = performance.now();
    const { attemptId } = await env.ecp.propose(benchRefund(100, 'notify'));
    const record = await env.ecp.awaitOutcome(attemptId);
    if (record.status !== 'SUCCEEDED') throw new Error(`auto-allowed attempt ${attemptId} ended ${record.status}`);
    return { ms: performance.now() - t0, attemptId };
  };

  const receivedBefore = env.notifications.length;
  await off();
  for (let i = 0; i < 10; i++) await autoAllow(); // warm-up
  const samples = { off: [] as number[], on: [] as number[] };
  const blockP50 = { off: [] as number[], on: [] as number[] };
  const onIds = new Set<string>();
  for (let round = 0; round < options.rounds; round++) {
    for (const mode of ['off', 'on'] as const) {
      if (mode === 'off') await off();
      else {
        await ensureNotifier(env.client, { intervalSeconds: pollSeconds });
        // Its first pass looks 60 s back and delivers the "off" block's events: let that backlog drain before
        // measuring, so "on" is the steady state of a plane that always notifies (one delivery per attempt).
        await quiet(env, pollSeconds);
      }
      const block: number[] = [];
      for (let i = 0; i < options.block; i++) {
        const { ms, attemptId } = await autoAllow();
        block.push(ms);
        if (mode === 'on') onIds.add(attemptId);
      }
      samples[mode].push(...block);
      blockP50[mode].push(summarize(block).p50);
    }
  }
  // Let the last passes and deliveries finish before counting: every "on" attempt's `executed` event must arrive.
  const executed = () =>
    new Set(
      env.notifications
        .slice(receivedBefore)
        .filter((n) => n.event === 'executed')
        .map((n) => n.id.split(':')[0]!)
        .filter((id) => onIds.has(id)),
    ).size;
  await ensureNotifier(env.client, { intervalSeconds: pollSeconds });
  const until = Date.now() + 60_000 + pollSeconds * 3_000;
  while (executed() < onIds.size && Date.now() < until) await sleep(500);
  await off();

  const offSummary = summarize(samples.off);
  const onSummary = summarize(samples.on);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  const result: NotificationsResult = {
    pollSeconds,
    block: options.block,
    rounds: options.rounds,
    latencyMs: { off: offSummary, on: onSummary },
    blockP50,
    ratios: { p50: r(onSummary.p50 / offSummary.p50), p95: r(onSummary.p95 / offSummary.p95) },
    offBlockSpread: r(Math.max(...blockP50.off) / Math.min(...blockP50.off)),
    onAttempts: onIds.size,
    executedDelivered: executed(),
    webhookDeliveries: env.notifications.length - receivedBefore,
  };
  options.log(
    `    auto-allow p50 off ${offSummary.p50.toFixed(1)} ms, on ${onSummary.p50.toFixed(1)} ms (ratio ${result.ratios.p50.toFixed(3)}, p95 ratio ${result.ratios.p95.toFixed(3)}; off blocks spread ${result.offBlockSpread.toFixed(3)}); ` +
      `${result.executedDelivered}/${result.onAttempts} executed events delivered, ${result.webhookDeliveries} webhook deliveries`,
  );
  // A shortfall is reported (❌ in the report), not thrown: the latency figures stand either way.
  return result;
}

/** Waits until no notification arrived for two of the notifier's passes (at most 60 s). */
async function quiet(env: BenchEnv, pollSeconds: number): Promise<void> {
  const until = Date.now() + 60_000;
  let seen = -1;
  while (seen !== env.notifications.length && Date.now() < until) {
    seen = env.notifications.length;
    await sleep(2 * pollSeconds * 1000 + 500);
  }
}
