/** "59m", "1h 5m", "2d 3h", "45s" — the same shapes the CLI prints. */
export function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return m % 60 ? `${hr}h ${m % 60}m` : `${hr}h`;
  const d = Math.floor(hr / 24);
  return hr % 24 ? `${d}d ${hr % 24}h` : `${d}d`;
}

export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const diff = Date.parse(iso) - now;
  if (Number.isNaN(diff)) return iso;
  return diff >= 0 ? `in ${duration(diff)}` : `${duration(diff)} ago`;
}

export function when(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  return `${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} (${relative(iso, now)})`;
}

export function compact(value: unknown): string {
  return value === undefined ? '—' : JSON.stringify(value);
}
