import type { Advice, ApprovalRequirement } from './advice';
import type { DecisionStatement, Verdict } from './decision';
import type { PinnedDirectory } from './directory';
import type { Proposal } from './proposal';

export const ATTEMPT_STATUSES = [
  'PROPOSED',
  'EVALUATING',
  'AWAITING_DECISION',
  'EXECUTING',
  'SUCCEEDED',
  'FAILED',
  'DENIED',
  'REJECTED',
  'EXPIRED',
  'CANCELLED',
] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];
export const TERMINAL_STATUSES: readonly AttemptStatus[] = ['SUCCEEDED', 'FAILED', 'DENIED', 'REJECTED', 'EXPIRED', 'CANCELLED'];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Retry behaviour of an action type's executor, as Temporal retry options (durations as strings like "2s"). */
export interface ExecutorRetry {
  initialInterval: string;
  backoffCoefficient: number;
  maximumInterval: string;
  maximumAttempts: number;
}

/** The action type as pinned at evaluation time: its config digest and how its executor is retried. */
export interface PinnedActionType {
  name: string;
  version: string;
  retry: ExecutorRetry;
  timeout: string;
}

/** What the plane knew when it decided. Captured by an activity, so it is pinned in history. */
export interface AttemptContext {
  capturedAt: string;
  facts: Record<string, JsonValue>;
  /** Why facts are missing or unusable; null when the context provider answered (or none is configured). */
  factsError: string | null;
  directory: PinnedDirectory;
  bundleVersion: string;
  actionType: PinnedActionType | null;
  /** Problems that make the proposal unacceptable regardless of policy (unknown agent, invalid parameters…). */
  problems: string[];
}

export type DecisionChannel = 'signal' | 'update';

export interface AcceptedDecision {
  human: string;
  verdict: Verdict;
  reason: string;
  decidedAt: string;
  receivedAt: string;
  via: DecisionChannel;
  keyFingerprint: string;
  signature: string;
  statement: DecisionStatement;
}

export type RefusalCode =
  | 'malformed'
  | 'not_awaiting'
  | 'deadline_passed'
  | 'wrong_attempt'
  | 'wrong_proposal_hash'
  | 'agent_cannot_decide'
  | 'unknown_human'
  | 'unknown_key'
  | 'bad_signature'
  | 'self_approval'
  | 'not_in_required_group'
  | 'duplicate_approver';

export interface RefusedDecision {
  /** As claimed by the sender; not trusted. */
  human: string | null;
  verdict: string | null;
  code: RefusalCode;
  message: string;
  receivedAt: string;
  via: DecisionChannel;
  signature: string | null;
  statement: DecisionStatement | null;
}

export interface RequirementProgress extends ApprovalRequirement {
  approvedBy: string[];
  met: boolean;
}

export interface Enforcement {
  verdict: 'execute' | 'blocked';
  /** Fresh advice evaluated right before the executor would run. */
  recheckAdvice: Advice | null;
  recheckContext: AttemptContext | null;
  blockedReason: string | null;
  idempotencyKey: string;
  at: string;
}

export type Outcome =
  | { ok: true; result: JsonValue; finishedAt: string }
  | { ok: false; error: { type: string; message: string }; finishedAt: string };

export interface TimelineEntry {
  status: AttemptStatus;
  at: string;
  note?: string;
}

/** The one authoritative execution record. `digest` is SHA-256 over the canonical JSON of everything else. */
export interface AttemptRecord {
  schema: 'ecp.record.v1';
  attemptId: string;
  status: AttemptStatus;
  proposal: Proposal;
  proposalHash: string;
  context: AttemptContext | null;
  advice: Advice | null;
  deadline: string | null;
  requirements: RequirementProgress[];
  decisions: { accepted: AcceptedDecision[]; refused: RefusedDecision[]; refusedTotal: number };
  enforcement: Enforcement | null;
  outcome: Outcome | null;
  timeline: TimelineEntry[];
  digest: string;
}

/** The answer to a decision sent through the `decide` update. */
export interface DecisionResult {
  accepted: boolean;
  code: RefusalCode | null;
  message: string;
  status: AttemptStatus;
}
