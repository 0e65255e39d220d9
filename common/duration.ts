const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** Parses "90s", "30m", "4h", "2d" into seconds. Throws with a readable message otherwise. */
export function parseDuration(text: string): number {
  const match = /^([1-9][0-9]{0,6})(s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration like 90s, 30m, 4h or 2d`);
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}
