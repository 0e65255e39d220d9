/// <reference lib="dom" />
import type { AttemptSummary } from '../client/ecpClient';
import type { SignedDecision } from '../common/decision';
// Type-only (erased from the browser bundle): the API's own answer type, whose record is common/record.ts's.
export type { AttemptView } from '../api/view';
import type { AttemptView } from '../api/view';

export interface SessionInfo {
  human: string;
  name: string | null;
  groups: string[];
  publicKeys: string[];
  method: string;
  csrfToken: string;
  expiresAt: string;
}
export interface AttemptList {
  count: number;
  attempts: AttemptSummary[];
}

/** An API failure, carrying the error body's code, field and (for decisions) the workflow's refusal code. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly refusal?: string,
  ) {
    super(message);
  }
}

let csrfToken = '';
export const setCsrfToken = (token: string) => (csrfToken = token);

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => null)) as { error?: { code: string; message: string; field?: string; refusal?: string } } | null;
  if (!res.ok) {
    const e = data?.error;
    throw new ApiFailure(res.status, e?.code ?? 'internal', e?.message ?? `HTTP ${res.status}`, e?.field, e?.refusal);
  }
  return data as T;
}

export const api = {
  session: () => call<SessionInfo>('GET', '/api/session'),
  signIn: (human: string, secret: string) => call<SessionInfo>('POST', '/api/session', { human, secret }),
  signOut: () => call<void>('DELETE', '/api/session'),
  inbox: () => call<AttemptList>('GET', '/api/inbox'),
  attempts: (filter: Record<string, string>) => call<AttemptList>('GET', `/api/attempts?${new URLSearchParams(filter).toString()}`),
  attempt: (id: string) => call<AttemptView>('GET', `/api/attempts/${encodeURIComponent(id)}`),
  decide: (id: string, decision: SignedDecision) =>
    call<{ accepted: true; message: string; status: string }>('POST', `/api/attempts/${encodeURIComponent(id)}/decisions`, decision),
};
