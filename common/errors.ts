/**
 * What an {@link EcpError} is about, stable for scripts: the CLI maps it to an exit code (cli/exitCodes.ts),
 * the HTTP API to a status (api/errors.ts), and the console shows the message.
 */
export type EcpErrorCode =
  | 'invalid_input'
  | 'too_large'
  | 'conflict'
  | 'not_found'
  | 'config_invalid'
  | 'policy_invalid'
  | 'connection'
  | 'refused'
  | 'internal'
  /** HTTP API: no session, or it expired. */
  | 'unauthenticated'
  /** HTTP API: signed in, but not as the one who may do this. */
  | 'forbidden'
  /** HTTP API: a cross-origin request or a missing CSRF token. */
  | 'csrf'
  /** HTTP API: too many failed sign-ins for now. */
  | 'rate_limited'
  /** The caller acted on a view that is out of date (e.g. a proposal hash the attempt no longer has). */
  | 'stale';

/** The one error body every ECP surface puts on the wire (HTTP API responses, the console's view of them). */
export interface EcpErrorBody {
  error: {
    code: string;
    message: string;
    field?: string;
    /** The workflow's refusal code, when a decision did not count. */
    refusal?: string;
  };
}

/**
 * The one error type ECP raises for anything a user can fix — in the client library, the CLI, the HTTP API, audit
 * and the console. `message` is written for the person reading it; `field` names the offending input path where there
 * is one; `code` is stable for scripts; `refusal` carries the workflow's refusal code when a decision did not count.
 */
export class EcpError extends Error {
  override readonly name = 'EcpError';
  constructor(
    readonly code: EcpErrorCode,
    message: string,
    readonly field?: string,
    readonly refusal?: string,
  ) {
    super(message);
  }

  /** This error as the wire body. */
  body(): EcpErrorBody {
    const { code, message, field, refusal } = this;
    return { error: { code, message, ...(field ? { field } : {}), ...(refusal ? { refusal } : {}) } };
  }
}

/**
 * The failure types (`ApplicationFailure.type`) the plane raises and matches on in Temporal: part of the
 * Temporal-level contract (they show in histories, the Web UI and the record's `outcome.error.type`), so they live
 * here and nowhere else as string literals.
 */
export const FailureType = {
  /** The start input is not a valid proposal, or the workflow ID is not its attempt ID: the workflow fails at once. */
  InvalidProposal: 'InvalidProposal',
  /** A `decide` update its validator refused (details: `{ code, status }`); nothing is recorded. */
  DecisionRefused: 'DecisionRefused',
  /** The worker lacks configuration an executor needs (an action type, an environment variable): final. */
  ConfigurationError: 'ConfigurationError',
  /** An HTTP executor's target answered with a final status (details: `{ status, body }`). */
  HttpStatusError: 'HttpStatusError',
  /** The live action type differs from the version the attempt was authorised for: the action does not run. */
  StaleAuthority: 'StaleAuthority',
  /** The plane could not seal the attempt for listing: it fails closed before awaiting or running anything. */
  ListingSealUnavailable: 'ListingSealUnavailable',
  /** The listing seal was asked for by something that is not an attempt workflow. */
  NotAnAttempt: 'NotAnAttempt',
  /** This worker keeps no archive; the archiver's activity retries on a worker that does. */
  ArchiveDisabled: 'ArchiveDisabled',
  /** An MCP tool answered with `isError: true` (details: the tool's result): the tool ran and said no, so it is final. */
  McpToolError: 'McpToolError',
  /** An MCP tool's result is larger than the outcome may carry: final; the call may have had its effect downstream. */
  McpResultTooLarge: 'McpResultTooLarge',
  /** A freeze or unfreeze not signed by a human of the configured freeze group, or otherwise invalid: nothing changed. */
  FreezeRefused: 'FreezeRefused',
  /** A cancellable action's executor was stopped because its scope was frozen while it ran (the kill switch). */
  Frozen: 'Frozen',
} as const;
/** One of the failure types in `FailureType`. */
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** Executor failures that are final whatever the action type's retry policy says: retrying cannot fix them. */
export const FINAL_EXECUTOR_FAILURES: readonly FailureType[] = [
  FailureType.ConfigurationError,
  FailureType.HttpStatusError,
  FailureType.StaleAuthority,
  FailureType.Frozen,
];
