import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { TERMINAL_STATUSES, type AttemptRecord, type AttemptStatus, type ProposalInput, type Verdict } from '../../common';
import type { EcpClient } from '../../client';
import { signDecision } from '../../client/keys';

let counter = 0;
/** A unique idempotency key per call, so attempts never collide across tests. */
export const uniqueKey = (label = 'k') => `${label}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

export const refund = (amount: number, orderId = 'order-1001', extra: Partial<ProposalInput> = {}): ProposalInput => ({
  agent: 'refund-bot',
  actionType: 'payments.refund',
  resource: orderId,
  parameters: { orderId, amount, reason: 'damaged in transit' },
  justification: 'Customer sent photos of the damage',
  claims: { total: 12_000 },
  idempotencyKey: uniqueKey('refund'),
  ...extra,
});

export const deploy = (environment: 'staging' | 'production', service = 'checkout', version = '2.4.0'): ProposalInput => ({
  agent: 'deploy-bot',
  actionType: 'deploys.release',
  resource: service,
  parameters: { service, version, environment },
  justification: 'Release with the fix for the checkout timeout',
  idempotencyKey: uniqueKey('deploy'),
});

/** Polls the live record until the attempt reaches `status` (or fails after `timeoutMs`). */
export async function waitForStatus(ecp: EcpClient, attemptId: string, status: AttemptStatus, timeoutMs = 20_000): Promise<AttemptRecord> {
  const until = Date.now() + timeoutMs;
  let last: AttemptRecord | undefined;
  while (Date.now() < until) {
    try {
      last = await ecp.getRecord(attemptId);
      if (last.status === status) return last;
      if (TERMINAL_STATUSES.includes(last.status)) break;
    } catch {
      // Not started yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`attempt ${attemptId} did not reach ${status} (last: ${last?.status ?? 'none'})`);
}

/** A signed decision with full control over every field — for attack tests. */
export function forgeDecision(
  key: KeyObject,
  fields: { attemptId: string; proposalHash: string; human: string; verdict?: Verdict; reason?: string; decidedAt?: string },
) {
  return signDecision(
    {
      v: 1,
      attemptId: fields.attemptId,
      proposalHash: fields.proposalHash,
      verdict: fields.verdict ?? 'approve',
      human: fields.human,
      reason: fields.reason ?? '',
      decidedAt: fields.decidedAt ?? new Date().toISOString(),
    },
    key,
  );
}

export const strangerKey = (): KeyObject => generateKeyPairSync('ed25519').privateKey;
