/// <reference lib="dom" />
import type { AttemptSummary } from '../common/searchAttributes';
import type { ClaimCheck } from '../common/claims';
import type { AttemptRecord } from '../common/record';
import type { SignedDecision } from '../common/decision';
import type { FreezeScopeShape, FreezeStatementShape } from '../common/freezeStatement';
import { EcpError, type EcpErrorBody, type EcpErrorCode } from '../common/errors';

export interface SessionInfo {
  human: string;
  name: string | null;
  groups: string[];
  publicKeys: string[];
  method: string;
  csrfToken: string;
  expiresAt: string;
}
/** How humans may sign in here (GET /api/sign-in-methods). */
export interface SignInMethods {
  secret: boolean;
  oidc: { label: string; startUrl: string } | null;
}
export interface AttemptList {
  count: number;
  /** Inbox rows carry their one-line summary; other listings do not. */
  attempts: Array<AttemptSummary & { summary?: string | null; escalatedTo?: string[] }>;
}
export interface AttemptView {
  record: AttemptRecord;
  claims: ClaimCheck[];
  viewer: {
    mayDecide: boolean;
    why: string | null;
    /** Whether this human may submit a break-glass override, naming `overridable`. */
    mayOverride: boolean;
    overridable: string[];
    whyNoOverride: string | null;
    /** Whether this human may ratify the accepted override now; `whyNoRatify` says why not while one awaits ratification. */
    mayRatify: boolean;
    whyNoRatify: string | null;
  };
  serverTime: string;
  /** One-line summary from the action type's template (plain text), null without one. */
  summary: string | null;
}

/** A freeze in force (GET /api/freezes). */
export interface FreezeEntry {
  seq: number;
  scope: FreezeScopeShape;
  reason: string;
  human: string;
  at: string;
  key: string;
}
/** The kill switch as the console shows it. */
export interface FreezesView {
  freezeGroup: string;
  mayFreeze: boolean;
  freezes: FreezeEntry[];
  log: Array<FreezeEntry & { op: 'freeze' | 'unfreeze' }>;
  seq: number;
}
/** A freeze statement signed in this browser. */
export interface SignedFreezeBody {
  statement: FreezeStatementShape;
  signature: string;
  key: string;
}

/**
 * An API failure: the plane's one error type ({@link EcpError}: code, message, field, and for decisions the
 * workflow's refusal code), with the HTTP status it came with.
 */
export class ApiFailure extends EcpError {
  constructor(
    readonly status: number,
    body: EcpErrorBody['error'] | undefined,
  ) {
    // The code comes from the server; an unknown one is shown as it is (only its message is displayed).
    super((body?.code ?? 'internal') as EcpErrorCode, body?.message ?? `HTTP ${status}`, body?.field, body?.refusal);
  }
}

let csrfToken = '';
export const setCsrfToken = (token: string) => (csrfToken = token);

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => null)) as Partial<EcpErrorBody> | null;
  if (!res.ok) throw new ApiFailure(res.status, data?.error);
  return data as T;
}

export const api = {
  session: () => call<SessionInfo>('GET', '/api/session'),
  signInMethods: () => call<SignInMethods>('GET', '/api/sign-in-methods'),
  signIn: (human: string, secret: string) => call<SessionInfo>('POST', '/api/session', { human, secret }),
  signOut: () => call<void>('DELETE', '/api/session'),
  inbox: () => call<AttemptList>('GET', '/api/inbox'),
  attempts: (filter: Record<string, string>) => call<AttemptList>('GET', `/api/attempts?${new URLSearchParams(filter).toString()}`),
  attempt: (id: string) => call<AttemptView>('GET', `/api/attempts/${encodeURIComponent(id)}`),
  decide: (id: string, decision: SignedDecision) =>
    call<{ accepted: true; message: string; status: string }>('POST', `/api/attempts/${encodeURIComponent(id)}/decisions`, decision),
  freezes: () => call<FreezesView>('GET', '/api/freezes'),
  sendFreeze: (signed: SignedFreezeBody) => call<FreezeEntry & { op: 'freeze' | 'unfreeze' }>('POST', '/api/freezes', signed),
};
