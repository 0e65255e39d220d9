import { describe, expect, it } from 'vitest';
import { idempotencyKeyFor } from '../../adapters/idempotency';
import { proposalSchema } from '../../common';

const parameters = { orderId: 'order-1001', amount: 1500, reason: 'damaged' };
const windowMs = 10 * 60_000;

describe('the idempotency key of a governed tool call', () => {
  it('from a tool-call ID: stable across time and key order, distinct per call ID and per arguments', () => {
    const key = idempotencyKeyFor({ actionType: 'payments.refund', parameters, toolCallId: 'call_1', windowMs, now: 0 });
    expect(key).toMatch(/^call-[0-9a-f]{40}$/);
    const reordered = { reason: 'damaged', amount: 1500, orderId: 'order-1001' };
    expect(idempotencyKeyFor({ actionType: 'payments.refund', parameters: reordered, toolCallId: 'call_1', windowMs, now: 1e12 })).toBe(
      key,
    );
    expect(idempotencyKeyFor({ actionType: 'payments.refund', parameters, toolCallId: 'call_2', windowMs })).not.toBe(key);
    expect(
      idempotencyKeyFor({ actionType: 'payments.refund', parameters: { ...parameters, amount: 1501 }, toolCallId: 'call_1', windowMs }),
    ).not.toBe(key);
    expect(idempotencyKeyFor({ actionType: 'deploys.release', parameters, toolCallId: 'call_1', windowMs })).not.toBe(key);
  });

  it('without one: identical arguments in one window are one key; the next window is another', () => {
    const at = (now: number) => idempotencyKeyFor({ actionType: 'payments.refund', parameters, windowMs, now });
    expect(at(0)).toMatch(/^args-[0-9a-f]{40}$/);
    expect(at(windowMs - 1)).toBe(at(0));
    expect(at(windowMs)).not.toBe(at(0));
  });

  it('is always a valid proposal idempotency key, whatever the call ID holds', () => {
    const key = idempotencyKeyFor({
      actionType: 'payments.refund',
      parameters,
      toolCallId: 'call with spaces/and:😀'.repeat(20),
      windowMs,
    });
    expect(proposalSchema.shape.idempotencyKey.safeParse(key).success).toBe(true);
  });
});
