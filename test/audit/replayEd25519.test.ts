/**
 * The replay bundle's Ed25519 fast path (audit/replay/ed25519Replay.ts) answers exactly what noble — the plane
 * workflow's verifier — answers: OpenSSL's `true` is taken (it implies noble's ZIP-215 `true`), everything else goes to
 * noble, including signatures only the cofactored ZIP-215 equation accepts. And a replay really uses it. Needs no server.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as noble from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { hostEd25519Stats, opensslVerifiesEd25519 } from '../../audit/replay/hostEd25519';
import { replayForResults } from '../../audit/replay/replay';
import { finalRecord } from '../helpers/savedRecords';

noble.hashes.sha512 = sha512;
const { Point } = noble;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const le = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
const fromLe = (b: Uint8Array) => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const modL = (n: bigint) => ((n % L) + L) % L;
// The point of order 2, (0, −1): adding it to R leaves the cofactored equation true and the cofactorless one false.
const ORDER_2 = Point.fromBytes(le(2n ** 255n - 20n), true);

/** A signature over `msg` whose R carries `torsion`, with k hashed over that R (so only a cofactored verifier takes it). */
function torsionSignature(secret: Uint8Array, msg: Uint8Array): { sig: Uint8Array; pub: Uint8Array } {
  const { scalar, pointBytes } = noble.utils.getExtendedPublicKey(secret);
  const r = modL(fromLe(randomBytes(64)));
  const R = Point.BASE.multiply(r).add(ORDER_2).toBytes();
  const k = modL(fromLe(sha512(cat(R, pointBytes, msg))));
  return { sig: cat(R, le(modL(r + k * scalar))), pub: pointBytes };
}

describe('the replay Ed25519 fast path', () => {
  it('decides every case as noble does, taking only OpenSSL’s acceptances', async () => {
    const answers: boolean[] = [];
    (globalThis as { __ecpReplayEd25519Verify?: unknown }).__ecpReplayEd25519Verify = (s: unknown, m: unknown, k: unknown) => {
      const ok = opensslVerifiesEd25519(s, m, k);
      answers.push(ok);
      return ok;
    };
    const shim = await import('../../audit/replay/ed25519Replay');
    const cases: Array<[string, Uint8Array, Uint8Array, Uint8Array]> = [];
    for (let i = 0; i < 12; i++) {
      const secret = noble.utils.randomSecretKey();
      const pub = noble.getPublicKey(secret);
      const msg = randomBytes(i * 7);
      const sig = noble.sign(msg, secret);
      const flip = (b: Uint8Array, at: number) => Uint8Array.from(b, (x, j) => (j === at ? x ^ 1 : x));
      cases.push(['valid', sig, msg, pub], ['R flipped', flip(sig, i), msg, pub], ['S flipped', flip(sig, 40 + i), msg, pub]);
      cases.push(['key flipped', sig, msg, flip(pub, i)], ['other key', sig, msg, noble.getPublicKey(noble.utils.randomSecretKey())]);
      if (msg.length > 0) cases.push(['message flipped', sig, flip(msg, 0), pub]);
      const sPlusL = fromLe(sig.subarray(32)) + L;
      if (sPlusL < 2n ** 256n) cases.push(['S + L (non-canonical S)', cat(sig.subarray(0, 32), le(sPlusL)), msg, pub]);
      const torsion = torsionSignature(secret, msg);
      cases.push(['R with a torsion component (ZIP-215 only)', torsion.sig, msg, torsion.pub]);
      cases.push(['short signature', sig.subarray(0, 63), msg, pub], ['short key', sig, msg, pub.subarray(0, 31)]);
    }
    const identity = le(1n);
    const identitySig = cat(identity, le(0n));
    cases.push(['small-order key, identity R, S = 0', identitySig, randomBytes(9), identity]);
    cases.push(['non-canonical identity key (y = p + 1)', identitySig, randomBytes(9), le(2n ** 255n - 18n)]);
    cases.push(['all zeros', new Uint8Array(64), randomBytes(3), new Uint8Array(32)]);

    const outcome = (f: () => boolean) => {
      try {
        return f();
      } catch (err) {
        return `throws ${(err as Error).constructor.name}`;
      }
    };
    let zip215Only = 0;
    for (const [name, sig, msg, pub] of cases) {
      answers.length = 0;
      const expected = outcome(() => noble.verify(sig, msg, pub));
      expect([name, outcome(() => shim.verify(sig, msg, pub))]).toEqual([name, expected]);
      // OpenSSL never accepts what noble refuses (the fast path can only say what noble says).
      if (answers[0]) expect([name, expected]).toEqual([name, true]);
      if (name.startsWith('valid')) expect([name, answers]).toEqual([name, [true]]);
      if (name.startsWith('R with a torsion')) {
        expect([name, answers, expected]).toEqual([name, [false], true]);
        zip215Only++;
      }
    }
    expect(zip215Only).toBe(12);
  });

  it('is what a replay of a quorum attempt uses for its decisions, and the record is the same', async () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'replay', 'histories');
    const ids = JSON.parse(readFileSync(join(dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
    const quorum = JSON.parse(readFileSync(join(dir, 'succeeded-quorum.json'), 'utf8')) as { events: Array<Record<string, unknown>> };
    const before = hostEd25519Stats.verified;
    const [out] = await replayForResults([{ history: quorum, workflowId: ids['succeeded-quorum.json']! }]);
    const record = finalRecord(quorum)!;
    expect(out).toEqual({ ok: true, result: record });
    expect(hostEd25519Stats.verified - before).toBeGreaterThanOrEqual(record.decisions.accepted.length);
  });
});
