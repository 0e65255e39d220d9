/**
 * `@noble/ed25519` as the audit replay bundle sees it (never the plane's bundle: replay.ts swaps it in for that one
 * import): the library itself, with `verify` given an exact fast path. A signature OpenSSL verifies (RFC 8032: canonical
 * R and S, the cofactorless equation over the raw R‖A‖M bytes) satisfies noble's default ZIP-215 check too (the same
 * bytes hashed, and the cofactored equation holds whenever the cofactorless one does), so `true` from the host is
 * noble's answer; every other case — a refused, malformed or exotic signature, other options — is decided by noble
 * itself, exactly as the plane decided it. The host function is injected into the replay sandbox's globals by
 * hostEd25519.ts. Runs in the workflow sandbox: no Node built-ins.
 */
import * as noble from '@noble/ed25519';

export * from '@noble/ed25519';

type HostVerify = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;
// Read once, when the (preloaded, shared) module is evaluated: the SDK keeps only the globals present then.
const hostVerify = (globalThis as { __ecpReplayEd25519Verify?: HostVerify }).__ecpReplayEd25519Verify;

/** noble's `verify`, answered by OpenSSL when it accepts (see above), by noble otherwise. */
export const verify: typeof noble.verify = (signature, message, publicKey, options) => {
  if (hostVerify !== undefined && options === undefined && hostVerify(signature, message, publicKey)) return true;
  return noble.verify(signature, message, publicKey, options);
};
