/**
 * Human-readable times, shared by the CLI and the console so both say the same thing. Sandbox- and browser-safe.
 * `seconds: true` keeps seconds under an hour ("59m 58s"), for a live countdown.
 */
export function duration(ms: number, { seconds = false }: { seconds?: boolean } = {}): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return seconds ? `${m}m ${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

/** "in 59m" or "3m ago", relative to now. */
export function relative(iso: string | null | undefined, now = Date.now(), options: { seconds?: boolean } = {}): string {
  if (!iso) return '—';
  const diff = Date.parse(iso) - now;
  if (Number.isNaN(diff)) return iso;
  return diff >= 0 ? `in ${duration(diff, options)}` : `${duration(diff, options)} ago`;
}

/** "2025-01-01 12:00:00Z": the instant alone, no countdown. */
export function stamp(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** "2025-01-01 12:00:00Z (in 59m)". */
export function when(iso: string | null | undefined, now = Date.now(), options: { seconds?: boolean } = {}): string {
  if (!iso) return '—';
  return `${stamp(iso)} (${relative(iso, now, options)})`;
}

/**
 * An attempt's deadline for people: a countdown only while the attempt is open; once it is closed the time left
 * means nothing, so say why the deadline no longer matters ("… (not needed: closed SUCCEEDED)").
 */
export function deadlineText(
  deadline: string | null | undefined,
  status: string,
  closed: boolean,
  now = Date.now(),
  options: { seconds?: boolean } = {},
): string {
  if (!deadline) return '—';
  if (!closed) return when(deadline, now, options);
  return `${stamp(deadline)} (${status === 'EXPIRED' ? 'reached: EXPIRED' : `not needed: closed ${status}`})`;
}

/** Compact JSON for a table cell. */
export function compact(value: unknown): string {
  return value === undefined ? '—' : JSON.stringify(value);
}
