import type { ProposalInput } from '../common';
import { BENCH_ORDER } from './env';

let counter = 0;
/** A unique idempotency key per call in this process. */
export const benchKey = (label: string) => `bench-${label}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** A refund of `amount` cents on the bench order: ≤ 5,000 is auto-allowed by the demo policies, more needs finance. */
export const benchRefund = (amount: number, label = 'refund'): ProposalInput => ({
  agent: 'refund-bot',
  actionType: 'payments.refund',
  resource: BENCH_ORDER,
  parameters: { orderId: BENCH_ORDER, amount, reason: 'bench' },
  justification: 'benchmark',
  idempotencyKey: benchKey(label),
});

/** A production deploy of checkout (two SRE approvals under the demo policies), each with a fresh version. */
export const benchDeploy = (n: number): ProposalInput => ({
  agent: 'deploy-bot',
  actionType: 'deploys.release',
  resource: 'checkout',
  parameters: { service: 'checkout', version: `9.${n}.${process.pid % 1000}`, environment: 'production' },
  justification: 'benchmark',
  idempotencyKey: benchKey('deploy'),
});

/** Runs `total` calls of `fn` with at most `concurrency` in flight (closed loop); returns elapsed ms. */
export async function runConcurrent(total: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await fn(next++);
    }),
  );
  return performance.now() - t0;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
