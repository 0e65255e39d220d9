/**
 * Where two JSON values first differ, for a replay check that fails: which field of the record the replay computes
 * differently, so an auditor (or a developer chasing a nondeterminism) need not diff two records by hand.
 */

/** The path of the first difference (`timeline[3].at`), with both sides shown briefly; null when the values are equal. */
export function firstDifference(expected: unknown, actual: unknown, path = ''): string | null {
  if (Object.is(expected, actual)) return null;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    for (let i = 0; i < Math.min(expected.length, actual.length); i++) {
      const inner = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (inner) return inner;
    }
    if (expected.length === actual.length) return null;
    return `${path || 'the value'}: ${expected.length} entries in the pack, ${actual.length} in the replay`;
  }
  if (isObject(expected) && isObject(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    for (const key of keys) {
      const inner = firstDifference(expected[key], actual[key], path ? `${path}.${key}` : key);
      if (inner) return inner;
    }
    return null;
  }
  return `${path || 'the value'}: the pack has ${brief(expected)}, the replay ${brief(actual)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function brief(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
