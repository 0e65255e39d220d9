import { describe, expect, it } from 'vitest';
import { EcpError, parseProposal } from '../../common';

const valid = {
  agent: 'refund-bot',
  actionType: 'payments.refund',
  resource: 'order-1',
  parameters: { amount: 1 },
  justification: 'because',
  idempotencyKey: 'k1',
};

const errorOf = (input: unknown): EcpError => {
  try {
    parseProposal(input);
  } catch (err) {
    return err as EcpError;
  }
  throw new Error('expected parseProposal to throw');
};

describe('proposal validation names the field and the reason', () => {
  it.each([
    [{ ...valid, agent: '' }, 'agent', /must not be empty/],
    [{ ...valid, agent: 'bad agent!' }, 'agent', /letters, digits/],
    [{ ...valid, actionType: 'Refund' }, 'actionType', /dotted lower-case/],
    [{ ...valid, resource: undefined }, 'resource', /field "resource" is required$/],
    [{ ...valid, parameters: [] }, 'parameters', /field "parameters" must be an object$/],
    [{ ...valid, parameters: { amount: Number.NaN } }, 'parameters.amount', /./],
    [{ ...valid, justification: '' }, 'justification', /must say why/],
    [{ ...valid, idempotencyKey: 'has space' }, 'idempotencyKey', /only letters/],
    [{ ...valid, surprise: true }, 'surprise', /field "surprise" is not a known field$/],
    [{ ...valid, claims: 'yes' }, 'claims', /field "claims" must be an object$/],
  ])('%#: %o → field %s', (input, field, reason) => {
    const error = errorOf(input);
    expect(error).toBeInstanceOf(EcpError);
    expect(error.code).toBe('invalid_input');
    if (field) {
      expect(error.field).toBe(field);
      expect(error.message).toContain(`field "${field}"`);
    }
    expect(error.message).toMatch(reason);
  });

  it('refuses an oversized proposal naming the limit', () => {
    const error = errorOf({ ...valid, parameters: { blob: 'x'.repeat(70_000) } });
    expect(error.code).toBe('too_large');
    expect(error.message).toMatch(/limit is 65536 bytes/);
  });

  it('accepts nested JSON parameters and claims', () => {
    expect(parseProposal({ ...valid, parameters: { a: [1, { b: null }] }, claims: { ok: true } }).claims).toEqual({ ok: true });
  });
});
