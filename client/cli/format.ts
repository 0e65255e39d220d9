import Table from 'cli-table3';

/** Colour only for a person at a terminal; never in pipes, files or with NO_COLOR. */
export const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

const paint = (code: number) => (text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
export const bold = paint(1);
export const dim = paint(2);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);
export const cyan = paint(36);

const STATUS_COLOURS: Record<string, (text: string) => string> = {
  SUCCEEDED: green,
  AWAITING_DECISION: yellow,
  EXECUTING: cyan,
  EVALUATING: cyan,
  PROPOSED: cyan,
  FAILED: red,
  DENIED: red,
  REJECTED: red,
  EXPIRED: red,
  CANCELLED: dim,
};

export function status(text: string): string {
  return (STATUS_COLOURS[text] ?? ((t: string) => t))(text);
}

/** A table with a header row; no colours unless at a terminal. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const t = new Table({ head: head.map((h) => bold(h)), style: { head: [], border: [], compact: true } });
  for (const row of rows) t.push(row.map((c) => String(c)));
  return t.toString();
}

/** Two columns of label / value, aligned, without borders. */
export function fields(rows: Array<[string, string]>, indent = '  '): string {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${dim(k.padEnd(width))}  ${v.split('\n').join(`\n${indent}${' '.repeat(width + 2)}`)}`).join('\n');
}

/** "59m", "1h 5m", "2d 3h", "45s". */
export function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

/** "in 59m" or "3m ago", relative to now. */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const diff = Date.parse(iso) - now;
  if (Number.isNaN(diff)) return iso;
  return diff >= 0 ? `in ${duration(diff)}` : `${duration(diff)} ago`;
}

/** "2025-01-01 12:00:00Z (in 59m)". */
export function when(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  return `${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} (${relative(iso, now)})`;
}

/** Compact JSON for a table cell. */
export function compact(value: unknown): string {
  return value === undefined ? '—' : JSON.stringify(value);
}

export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** For a note on stderr that is not an error (so stdout stays clean for pipes). */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}
