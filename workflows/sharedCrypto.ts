/**
 * Preloaded into the plane's workflow bundle and the audit replay bundle: makes the pure, stateless crypto libraries
 * one module instance shared by every workflow, instead of one per workflow. Without it each workflow that checks a
 * decision signature rebuilds noble-ed25519's base-point table (~4,000 point additions) and compiles its BigInt code
 * afresh — most of a replay's cost. What the workflow computes is unchanged; only instantiation is shared.
 *
 * The SDK deep-freezes shared modules, but common/signature.ts assigns `ed.hashes.sha512` when each workflow loads it.
 * An accessor keeps that assignment working (and effective) on the frozen object. Runs in the workflow sandbox.
 */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

let configured: typeof ed.hashes.sha512 = sha512;
Object.defineProperty(ed.hashes, 'sha512', {
  enumerable: true,
  configurable: false,
  get: () => configured,
  set: (fn: typeof ed.hashes.sha512) => {
    configured = fn;
  },
});
