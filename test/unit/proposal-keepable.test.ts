import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import canonicalize from 'canonicalize';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { EcpError, parseProposal, parseStartProposal, proposalHash, type ProposalInput } from '../../common';

const valid: ProposalInput = {
  agent: 'refund-bot',
  actionType: 'payments.refund',
  resource: 'order-1001',
  parameters: { orderId: 'order-1001', amount: 7_500 },
  justification: 'Customer sent photos of the damage',
  claims: { total: 12_000 },
  idempotencyKey: 'refund-42',
};

/** An independent RFC 8785 hash: the `canonicalize` package directly, over the value exactly as given. */
const independentHash = (value: unknown) => `sha256:${bytesToHex(sha256(utf8ToBytes(canonicalize(value)!)))}`;

const refusal = (parse: (input: unknown) => unknown, input: unknown): EcpError => {
  try {
    parse(input);
  } catch (err) {
    expect(err).toBeInstanceOf(EcpError);
    return err as EcpError;
  }
  throw new Error('expected a refusal');
};

/** A proposal as it arrives over JSON (Temporal payloads, HTTP): JSON.parse keeps `__proto__` as an own key. */
const overTheWire = (text: string) => JSON.parse(text) as unknown;

describe('proposals that cannot be kept exactly are refused, naming the field', () => {
  it.each([
    ['parameters', '{"__proto__":{"amount":1}}', 'parameters.__proto__'],
    ['parameters', '{"refund":{"to":{"__proto__":{"iban":"x"}}}}', 'parameters.refund.to.__proto__'],
    ['claims', '{"constructor":{"prototype":1}}', 'claims.constructor'],
    ['parameters', '{"list":[{"prototype":true}]}', 'parameters.list[0].prototype'],
  ])('%s %s → %s', (field, json, path) => {
    const input = overTheWire(JSON.stringify({ ...valid, [field]: '@' }).replace('"@"', json));
    // The bug this guards: a copy drops the key, so the hashed proposal silently differs from the input.
    for (const parse of [parseProposal, parseStartProposal]) {
      const err = refusal(parse, input);
      expect(err.code).toBe('invalid_input');
      expect(err.field).toBe(path);
      expect(err.message).toContain(`field "${path}"`);
    }
  });

  it.each([
    [{ amount: Number.MAX_SAFE_INTEGER + 1 }, 'parameters.amount'],
    [{ amount: -1e21 }, 'parameters.amount'],
    [{ nested: [1, { big: 2 ** 64 }] }, 'parameters.nested[1].big'],
  ])('refuses numbers beyond ±2^53 in %o', (parameters, path) => {
    const err = refusal(parseProposal, { ...valid, parameters });
    expect(err.field).toBe(path);
    expect(err.message).toMatch(/cannot be kept exactly/);
  });

  it('keeps safe integers and fractions', () => {
    const parameters = { max: Number.MAX_SAFE_INTEGER, min: -Number.MAX_SAFE_INTEGER, f: 0.1, tiny: 5e-324 };
    expect(parseProposal({ ...valid, parameters }).parameters).toEqual(parameters);
  });
});

describe('a start input is hashed exactly as given', () => {
  it('refuses a start input without claims (validation would add them), naming the field', () => {
    const { claims: _, ...noClaims } = valid;
    const err = refusal(parseStartProposal, noClaims);
    expect(err.field).toBe('claims');
    // The client still fills them in, so EcpClient and the CLI keep producing the same proposals and hashes.
    expect(parseProposal(noClaims).claims).toEqual({});
  });

  it('proposal hash = independent RFC 8785 hash of the start input, for any accepted input (property)', () => {
    const keepable = fc.jsonValue({ maxDepth: 3 }).filter((v) => !/"(?:__proto__|constructor|prototype)":/.test(JSON.stringify(v)));
    const obj = fc.dictionary(fc.string({ maxLength: 6 }), keepable, { maxKeys: 4 });
    let accepted = 0;
    fc.assert(
      fc.property(obj, obj, (parameters, claims) => {
        // Over the wire, as the workflow receives it.
        const input = overTheWire(JSON.stringify({ ...valid, parameters, claims }));
        let proposal;
        try {
          proposal = parseStartProposal(input);
        } catch (err) {
          expect(err).toBeInstanceOf(EcpError);
          return;
        }
        expect(proposalHash(proposal)).toBe(independentHash(input));
        accepted++;
      }),
      { numRuns: 300, seed: 8785 },
    );
    expect(accepted).toBeGreaterThan(30); // not vacuous (many generated values hold numbers beyond ±2^53, refused)
  });

  it('ordinary proposals hash as before (the hash of a known proposal is unchanged)', () => {
    // Pinned from the code before this change (checked on commit 94f1864).
    expect(proposalHash(parseProposal(valid))).toBe('sha256:aa7d5e61829d99444c224e72c8d13d4346039fe3e1bd5f6bdcabfb7f2a5d3268');
    expect(proposalHash(parseProposal(valid))).toBe(independentHash({ ...valid }));
    expect(proposalHash(parseStartProposal(valid))).toBe(proposalHash(parseProposal(valid)));
  });
});
