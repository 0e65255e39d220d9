/**
 * Preloaded into the audit replay bundle only (never the plane's): makes the pure, stateless crypto libraries one
 * module instance shared by every replayed workflow, instead of one per workflow. Without it each replayed history
 * that checks a decision signature rebuilds noble-ed25519's base-point table (~4,000 point additions) — most of a
 * replay's cost. The workflow code and what it computes are unchanged; only module instantiation is shared.
 *
 * The SDK deep-freezes shared modules, but common/decision.ts assigns `ed.hashes.sha512` when each workflow loads it.
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
