/**
 * The one error type ECP raises for anything a user can fix. `message` is written for the person reading it;
 * `field` names the offending input path where there is one; `code` is stable for scripts.
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
  | 'internal';

export class EcpError extends Error {
  override readonly name = 'EcpError';
  constructor(
    readonly code: EcpErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
