import { randomBytes } from 'node:crypto';
import type { Identity } from './authenticator';

export interface Session extends Identity {
  id: string;
  /** Sent by the page in the `x-csrf-token` header on every unsafe request. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionLimits {
  idleMs: number;
  maxAgeMs: number;
}

/**
 * Server-side sessions in memory: random 256-bit IDs (the cookie carries only the ID), idle and absolute expiry.
 * A plane restart signs everyone out — acceptable for a console, and nothing secret ever touches disk.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  constructor(
    readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  create(identity: Identity): Session {
    this.#sweep();
    const at = this.now();
    const session: Session = {
      ...identity,
      id: randomBytes(32).toString('base64url'),
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: at,
      lastSeenAt: at,
    };
    this.#sessions.set(session.id, session);
    return session;
  }

  /**
   * The live session for this ID, touching its idle timer unless `touch` is false; null when unknown or expired
   * (an expired one is dropped).
   */
  get(id: string | undefined, { touch = true }: { touch?: boolean } = {}): Session | null {
    if (!id) return null;
    const session = this.#sessions.get(id);
    if (!session) return null;
    const at = this.now();
    if (at - session.lastSeenAt > this.limits.idleMs || at - session.createdAt > this.limits.maxAgeMs) {
      this.#sessions.delete(id);
      return null;
    }
    if (touch) session.lastSeenAt = at;
    return session;
  }

  /** When the session ends at the latest if unused (for the page's "signed out in …" hint). */
  expiresAt(session: Session): number {
    return Math.min(session.lastSeenAt + this.limits.idleMs, session.createdAt + this.limits.maxAgeMs);
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  #sweep(): void {
    const at = this.now();
    for (const [id, s] of this.#sessions) {
      if (at - s.lastSeenAt > this.limits.idleMs || at - s.createdAt > this.limits.maxAgeMs) this.#sessions.delete(id);
    }
  }
}
