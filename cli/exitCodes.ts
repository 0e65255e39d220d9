import type { EcpErrorCode } from '../common/errors';

/** The `ecp` command's exit codes. Stable: scripts rely on them. */
export const EXIT = {
  ok: 0,
  unexpected: 1,
  invalidInput: 2,
  refused: 3,
  notFound: 4,
  conflict: 5,
  connection: 6,
  /** `ecp audit verify`: a pack or the archive failed verification. */
  verificationFailed: 7,
  /** `ecp audit verify`: internally consistent, but NOT verified — no trust root (plane configuration or --trust). */
  notVerified: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_ERROR_CODE: Record<EcpErrorCode, ExitCode> = {
  invalid_input: EXIT.invalidInput,
  too_large: EXIT.invalidInput,
  config_invalid: EXIT.invalidInput,
  policy_invalid: EXIT.invalidInput,
  refused: EXIT.refused,
  unauthenticated: EXIT.refused,
  forbidden: EXIT.refused,
  csrf: EXIT.refused,
  rate_limited: EXIT.refused,
  stale: EXIT.conflict,
  not_found: EXIT.notFound,
  conflict: EXIT.conflict,
  connection: EXIT.connection,
  internal: EXIT.unexpected,
};

/** The exit code for an {@link EcpError}'s code: the same codes the HTTP API answers with a status. */
export function exitCodeForEcpError(code: EcpErrorCode): ExitCode {
  return BY_ERROR_CODE[code];
}

export const EXIT_CODES_HELP = `Exit codes:
  0  ok                       4  not found
  1  unexpected error         5  conflict (idempotency key reused for another proposal)
  2  invalid input or config  6  cannot reach Temporal
  3  decision refused          7  verification failed (ecp audit verify)
                              8  consistent but not verified: no trust root (ecp audit verify)`;
