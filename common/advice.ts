/** What one approval policy requires: `quorum` distinct humans from any of `groups`, before `deadline`. */
export interface ApprovalRequirement {
  policyId: string;
  groups: string[];
  quorum: number;
  /** Seconds from the moment the attempt starts waiting. */
  deadlineSeconds: number;
  /** Only fail-closed expiry exists today: the attempt ends EXPIRED and nothing runs. */
  onExpiry: 'expire';
}

export type AdviceVerdict = 'allow' | 'deny' | 'require_approval';

/**
 * The policy engine's output. Advice never runs anything; the workflow enforces it.
 * `policyIds` are the determining policies (satisfied permits for allow/approval, satisfied forbids for deny;
 * empty for default deny). `errors` name policies that failed to evaluate — any error makes the advice deny.
 */
export interface Advice {
  verdict: AdviceVerdict;
  requirements: ApprovalRequirement[];
  policyIds: string[];
  reasons: string[];
  errors: string[];
  bundleVersion: string;
}
