/**
 * Input that cannot be kept exactly is refused, never silently changed. Pure and sandbox-safe (no Node built-ins),
 * so the client, the CLI, the console API and the workflow all apply the same rules:
 *  - keys `__proto__`, `constructor`, `prototype`: JavaScript copies of objects drop or reinterpret them, so the
 *    hashed, approved and executed proposal could differ;
 *  - numbers outside ±Number.MAX_SAFE_INTEGER (and non-finite ones): they do not survive every JSON parser and
 *    language the proposal passes through;
 *  - in JSON text: duplicate keys (one of them would be dropped) and number tokens whose text does not denote the
 *    same value as the canonical serialization of the parsed double (`12345678901234567890`, `1e400`,
 *    `0.10000000000000000001`).
 */
import { EcpError } from './errors';
import { formatPath } from './validation';

/** Object keys that JavaScript object handling can drop or reinterpret. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deeper nesting is refused: a bound on recursion for hostile input. */
export const MAX_JSON_DEPTH = 256;

/** One reason a value cannot be kept exactly, at a path such as `parameters.items[2].amount`. */
export interface UnsafeValue {
  path: string;
  reason: string;
}

/**
 * The first key or number in a plain-JSON value that cannot be kept exactly, or null. Looks at own enumerable string
 * keys (what canonical JSON and zod see). `root` is the path prefix, e.g. `proposal` → reported without it.
 */
export function findUnsafeValue(value: unknown, root: readonly PropertyKey[] = []): UnsafeValue | null {
  const path: PropertyKey[] = [...root];
  const walk = (v: unknown, depth: number): UnsafeValue | null => {
    if (depth > MAX_JSON_DEPTH) return { path: formatPath(path), reason: `is nested more than ${MAX_JSON_DEPTH} levels deep` };
    if (typeof v === 'number') {
      const problem = numberProblem(v);
      return problem ? { path: formatPath(path), reason: problem } : null;
    }
    if (v === null || typeof v !== 'object') return null;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        const found = walk(v[i], depth + 1);
        path.pop();
        if (found) return found;
      }
      return null;
    }
    for (const key of Object.keys(v)) {
      path.push(key);
      const found = FORBIDDEN_KEYS.has(key)
        ? { path: formatPath(path), reason: `uses the key "${key}", which is refused because JavaScript objects cannot keep it as data` }
        : walk((v as Record<string, unknown>)[key], depth + 1);
      path.pop();
      if (found) return found;
    }
    return null;
  };
  return walk(value, 0);
}

/** Throws an `invalid_input` EcpError naming the field when `value` has a key or number that cannot be kept exactly. */
export function assertKeepable(value: unknown, what: string, root: readonly PropertyKey[] = []): void {
  const found = findUnsafeValue(value, root);
  if (found) throw unsafeError(what, found);
}

function unsafeError(what: string, found: UnsafeValue): EcpError {
  const where = found.path ? ` field "${found.path}"` : '';
  return new EcpError('invalid_input', `invalid ${what}:${where} ${found.reason}`, found.path || undefined);
}

function numberProblem(n: number): string | null {
  if (!Number.isFinite(n)) return `is ${n}, which JSON cannot represent`;
  if (Math.abs(n) > Number.MAX_SAFE_INTEGER) {
    return `is ${n}, beyond ±${Number.MAX_SAFE_INTEGER} (2^53 - 1), so it cannot be kept exactly; send large numbers as strings`;
  }
  return null;
}

/**
 * The exact decimal value a JSON number token (or a JavaScript number's `String()`) denotes, as
 * `<sign><significant digits>e<position of the decimal point>`; zero is `0` whatever its sign or exponent.
 */
export function decimalKey(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) throw new TypeError(`not a decimal number: ${text}`);
  const [, sign, int, frac = '', exp = '0'] = m;
  let digits = int! + frac;
  let point = int!.length + Number(exp);
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead).replace(/0+$/, '');
  point -= lead;
  if (digits === '') return '0';
  return `${sign}${digits}e${point}`;
}

/**
 * Parses JSON text like JSON.parse, but refuses what JSON.parse would silently change: duplicate keys, number tokens
 * that do not round-trip through a double, forbidden keys, and nesting deeper than {@link MAX_JSON_DEPTH}. Errors are
 * `invalid_input` EcpErrors naming `field` (omit it for a whole request body) and the path inside it, with the reason.
 */
export function parseJsonStrict(text: string, field = ''): unknown {
  let pos = 0;
  const root: PropertyKey[] = field ? [field] : [];
  const path: PropertyKey[] = [...root];
  const fail = (reason: string, at: PropertyKey[] = path): never => {
    const where = formatPath(at);
    throw new EcpError('invalid_input', `${where ? `field "${where}"` : 'the JSON text'} ${reason}`, where || undefined);
  };
  const syntax = (expected: string): never =>
    fail(
      `is not valid JSON: expected ${expected} at position ${pos}${pos < text.length ? ` (found ${JSON.stringify(text[pos])})` : ' (end of text)'}`,
      root,
    );
  const skipSpace = () => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      pos++;
    }
  };
  const stringToken = (): string => {
    const start = pos;
    pos++; // opening quote
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        return JSON.parse(text.slice(start, pos)) as string;
      }
      if (c < 0x20) syntax('no raw control character in a string');
      if (c === 0x5c) {
        const next = text[pos + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) {
            pos++;
            syntax('four hex digits after \\u');
          }
          pos += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) pos += 2;
        else {
          pos++;
          syntax('a valid escape after \\');
        }
      } else pos++;
    }
    return syntax('a closing quote');
  };
  const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const numberToken = (): number => {
    numberPattern.lastIndex = pos;
    const m = numberPattern.exec(text);
    if (!m) return syntax('a number');
    const token = m[0];
    pos += token.length;
    const n = Number(token);
    if (!Number.isFinite(n)) fail(`has the number ${token}, which is too large for a double and cannot be kept exactly`);
    if (decimalKey(token) !== decimalKey(String(n))) {
      fail(`has the number ${token}, which would be changed to ${String(n)}: it cannot be kept exactly; send it as a string`);
    }
    return n;
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) fail(`is nested more than ${MAX_JSON_DEPTH} levels deep`);
    skipSpace();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const out: Record<string, unknown> = {};
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return out;
      }
      for (;;) {
        skipSpace();
        if (text[pos] !== '"') syntax('a key in double quotes');
        const key = stringToken();
        path.push(key);
        if (FORBIDDEN_KEYS.has(key)) fail(`uses the key "${key}", which is refused because JavaScript objects cannot keep it as data`);
        if (Object.hasOwn(out, key)) fail('appears twice in the same object (duplicate key); one would be dropped');
        skipSpace();
        if (text[pos] !== ':') syntax('":"');
        pos++;
        out[key] = value(depth + 1);
        path.pop();
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return out;
        }
        syntax('"," or "}"');
      }
    }
    if (c === '[') {
      pos++;
      const out: unknown[] = [];
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return out;
      }
      for (;;) {
        path.push(out.length);
        out.push(value(depth + 1));
        path.pop();
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return out;
        }
        syntax('"," or "]"');
      }
    }
    if (c === '"') return stringToken();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return numberToken();
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, pos)) {
        pos += word.length;
        return v;
      }
    }
    return syntax('a JSON value');
  };
  const result = value(0);
  skipSpace();
  if (pos !== text.length) syntax('the end of the text');
  return result;
}
