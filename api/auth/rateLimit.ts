/**
 * Counts failed sign-ins per key (human, and client address) in a sliding window; once `max` failures are in the
 * window, further attempts are refused until the oldest failure ages out. Successes do not reset a client key, so
 * guessing across many humans from one address is limited too.
 */
export class FailureLimiter {
  readonly #failures = new Map<string, number[]>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until another attempt is allowed for any of these keys; 0 when allowed now. */
  retryAfterMs(keys: string[]): number {
    const at = this.now();
    let wait = 0;
    for (const key of keys) {
      const recent = this.#recent(key, at);
      if (recent.length >= this.max) wait = Math.max(wait, recent[0]! + this.windowMs - at);
    }
    return wait;
  }

  fail(keys: string[]): void {
    const at = this.now();
    for (const key of keys) this.#failures.set(key, [...this.#recent(key, at), at]);
  }

  clear(key: string): void {
    this.#failures.delete(key);
  }

  #recent(key: string, at: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((t) => at - t < this.windowMs);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }
}

/** How sign-in failures slow down a source; see docs/console.md "Sign-in throttling". */
export interface SignInThrottleSettings {
  /** Failures from one source (any human) within `windowMs` before that source is refused until they age out. */
  sourceMax: number;
  windowMs: number;
  /** Failures for one human from one source before backoff starts. */
  freeFailures: number;
  /** The first backoff; it doubles with each further failure, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Tracked human+source pairs kept at most (oldest dropped first), so a flood of names cannot exhaust memory. */
  maxTracked: number;
}

export const DEFAULT_SIGN_IN_THROTTLE: SignInThrottleSettings = {
  sourceMax: 20,
  windowMs: 15 * 60_000,
  freeFailures: 3,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  maxTracked: 10_000,
};

/**
 * Sign-in throttling keyed by the source (client address) only, never by the account alone: per source, a sliding
 * window of failures for any human; per human-and-source, exponential backoff after a few failures. A source that
 * did not fail is never refused, so nobody can lock a human out by failing sign-ins in their name from elsewhere.
 * (Per-account lockout would be exactly that denial-of-service lever; guessing is already hopeless against
 * high-entropy, scrypt-hashed secrets, and each source is still slowed down.)
 */
export class SignInThrottle {
  readonly #sources: FailureLimiter;
  readonly #pairs = new Map<string, { failures: number; last: number }>();

  constructor(
    readonly settings: SignInThrottleSettings = DEFAULT_SIGN_IN_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {
    this.#sources = new FailureLimiter(settings.sourceMax, settings.windowMs, now);
  }

  /** Milliseconds until `source` may try to sign in as `human` again; 0 when it may now. */
  retryAfterMs(source: string, human: string): number {
    const bySource = this.#sources.retryAfterMs([source]);
    const pair = this.#pair(source, human);
    if (!pair || pair.failures < this.settings.freeFailures) return bySource;
    const backoff = this.#delay(pair.failures) - (this.now() - pair.last);
    return Math.max(bySource, backoff, 0);
  }

  /** Records a failed sign-in by `source` as `human`. */
  failed(source: string, human: string): void {
    const at = this.now();
    this.#sources.fail([source]);
    const key = pairKey(source, human);
    const pair = this.#pair(source, human);
    this.#pairs.delete(key); // re-insert: the map's order is oldest-first for trimming
    this.#pairs.set(key, { failures: (pair?.failures ?? 0) + 1, last: at });
    while (this.#pairs.size > this.settings.maxTracked) this.#pairs.delete(this.#pairs.keys().next().value!);
  }

  /** A successful sign-in ends the backoff for that human from that source (the source's window stays). */
  succeeded(source: string, human: string): void {
    this.#pairs.delete(pairKey(source, human));
  }

  #delay(failures: number): number {
    const steps = failures - this.settings.freeFailures;
    return Math.min(this.settings.maxDelayMs, this.settings.baseDelayMs * 2 ** Math.min(steps, 40));
  }

  /** The pair's state, forgotten once its backoff has passed and it has been quiet for a whole window. */
  #pair(source: string, human: string): { failures: number; last: number } | undefined {
    const key = pairKey(source, human);
    const pair = this.#pairs.get(key);
    if (pair && this.now() - pair.last >= Math.max(this.settings.windowMs, this.#delay(pair.failures))) {
      this.#pairs.delete(key);
      return undefined;
    }
    return pair;
  }
}

function pairKey(source: string, human: string): string {
  return `${source}\u0000${human}`;
}
