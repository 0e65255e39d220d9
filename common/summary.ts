/**
 * One-line human summaries of proposals ("Refund 70.00 EUR on order-1003"), from an action type's optional `summary`
 * template. Pure and dependency-free: the console API, the CLI and the browser run this same code. A summary is
 * presentation only — computed at read time from the proposal and the current configuration, never recorded and never
 * part of what a human's signature binds (that is the proposal hash and its exact parameters).
 *
 * Template syntax: literal text with placeholders in braces.
 * - `{resource}`, `{agent}`, `{actionType}` — the proposal's fields;
 * - `{parameters.orderId}` or the short `{orderId}` — a parameter (nested: `{parameters.customer.name}`);
 * - `{amount|cents}` — a value through a formatting helper (see {@link SUMMARY_HELPERS}); helpers chain: `{x|cents|upper}`;
 * - `{{` and `}}` — literal braces.
 */

/** The proposal fields a placeholder may name besides parameters. */
export const SUMMARY_FIELDS = ['resource', 'agent', 'actionType'] as const;

/** Shown for a placeholder whose value is missing (or null). */
export const SUMMARY_MISSING = '—';
/** Longest rendered summary, in characters (an ellipsis ends a longer one). */
export const SUMMARY_MAX_LENGTH = 160;
/** Longest single value inside a summary, so one long parameter cannot crowd out the rest. */
export const SUMMARY_MAX_VALUE_LENGTH = 60;
/** Longest template accepted in configuration. */
export const SUMMARY_MAX_TEMPLATE_LENGTH = 300;

type Helper = (value: unknown) => unknown;

/**
 * Formatting helpers. A helper that does not apply to a value (e.g. `cents` on a string) leaves it as it is, so a
 * summary never hides what the parameter says.
 * - `cents`: an integer number of minor units as a decimal with two places (7000 → "70.00");
 * - `upper`, `lower`: letter case of a string.
 */
export const SUMMARY_HELPERS: Readonly<Record<string, Helper>> = Object.freeze({
  cents: (v: unknown) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return v;
    // Integer arithmetic on the digits: no floating-point rounding (1005 → "10.05").
    const digits = String(Math.abs(v)).padStart(3, '0');
    return `${v < 0 ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
  },
  upper: (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v),
  lower: (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v),
});

/** One placeholder of a parsed template: where its value comes from and the helpers applied to it. */
export interface SummaryPlaceholder {
  /** As written between the braces, e.g. `amount|cents`. */
  source: string;
  /** `parameters` with a key path, or one of {@link SUMMARY_FIELDS}. */
  field: 'parameters' | (typeof SUMMARY_FIELDS)[number];
  /** The key path inside `parameters` (empty for the other fields). */
  path: string[];
  helpers: string[];
}

/** A parsed summary template part: literal text or a placeholder. */
export type SummaryPart = string | SummaryPlaceholder;

/** A template that does not parse; `message` says where and why. */
export class SummaryTemplateError extends Error {
  override readonly name = 'SummaryTemplateError';
}

const KEY = /^[A-Za-z0-9_$-]+$/;

/** Parses a template into literal text and placeholders; throws {@link SummaryTemplateError} on bad syntax. */
export function parseSummaryTemplate(template: string): SummaryPart[] {
  if (template.length > SUMMARY_MAX_TEMPLATE_LENGTH)
    throw new SummaryTemplateError(`is longer than ${SUMMARY_MAX_TEMPLATE_LENGTH} characters`);
  const parts: SummaryPart[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      text += c;
      i++;
      continue;
    }
    if (c === '}') throw new SummaryTemplateError(`has a "}" at position ${i + 1} that closes nothing (write "}}" for a literal brace)`);
    if (c !== '{') {
      text += c;
      continue;
    }
    const end = template.indexOf('}', i + 1);
    if (end < 0) throw new SummaryTemplateError(`has a "{" at position ${i + 1} that is never closed (write "{{" for a literal brace)`);
    if (text) parts.push(text);
    text = '';
    parts.push(parsePlaceholder(template.slice(i + 1, end)));
    i = end;
  }
  if (text) parts.push(text);
  return parts;
}

function parsePlaceholder(source: string): SummaryPlaceholder {
  const [name = '', ...helpers] = source.split('|').map((s) => s.trim());
  if (!name) throw new SummaryTemplateError(`has an empty placeholder "{${source}}"`);
  for (const helper of helpers) {
    if (!Object.hasOwn(SUMMARY_HELPERS, helper)) {
      throw new SummaryTemplateError(
        `placeholder "{${source}}" uses unknown helper "${helper}" (known: ${Object.keys(SUMMARY_HELPERS).join(', ')})`,
      );
    }
  }
  const keys = name.split('.');
  if (keys.some((k) => !KEY.test(k)))
    throw new SummaryTemplateError(`placeholder "{${source}}" is not a field name (letters, digits, _ - $, dots between keys)`);
  if (keys.length === 1 && (SUMMARY_FIELDS as readonly string[]).includes(name))
    return { source, field: name as SummaryPlaceholder['field'], path: [], helpers };
  if (keys[0] === 'parameters') {
    if (keys.length === 1) throw new SummaryTemplateError(`placeholder "{${source}}" must name a parameter, e.g. "{parameters.orderId}"`);
    return { source, field: 'parameters', path: keys.slice(1), helpers };
  }
  if (keys.length > 1 && (SUMMARY_FIELDS as readonly string[]).includes(keys[0]!)) {
    throw new SummaryTemplateError(`placeholder "{${source}}": "${keys[0]}" is a text field with no keys inside`);
  }
  return { source, field: 'parameters', path: keys, helpers };
}

/** What a summary is rendered from: the proposal (or the part of it a summary may name). */
export interface SummarySubject {
  agent?: string;
  actionType?: string;
  resource?: string;
  parameters?: unknown;
}

/**
 * The one-line summary of a proposal by its action type's template, or null when there is no template. Missing values
 * render as "—". The result is plain text on one line: control and bidirectional-formatting characters are removed
 * (they could reorder or hide what a reader sees, or drive a terminal), whitespace runs become one space, each value is
 * capped at {@link SUMMARY_MAX_VALUE_LENGTH} and the whole at {@link SUMMARY_MAX_LENGTH} characters. Consumers set it
 * as text (the console uses textContent), never as markup. A template that does not parse renders as null: load-time
 * validation rejects such configuration, so this only guards against an unvalidated caller.
 */
export function renderSummary(template: string | null | undefined, subject: SummarySubject): string | null {
  if (template === null || template === undefined) return null;
  let parts: SummaryPart[];
  try {
    parts = parseSummaryTemplate(template);
  } catch {
    return null;
  }
  const out = parts
    .map((part) => (typeof part === 'string' ? clean(part) : cap(clean(valueText(part, subject)), SUMMARY_MAX_VALUE_LENGTH)))
    .join('');
  return cap(out.replace(/ {2,}/g, ' ').trim(), SUMMARY_MAX_LENGTH);
}

function valueText(placeholder: SummaryPlaceholder, subject: SummarySubject): string {
  let value: unknown = placeholder.field === 'parameters' ? lookup(subject.parameters, placeholder.path) : subject[placeholder.field];
  if (value === undefined || value === null) return SUMMARY_MISSING;
  for (const helper of placeholder.helpers) value = SUMMARY_HELPERS[helper]!(value);
  if (typeof value === 'string') return value === '' ? SUMMARY_MISSING : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  try {
    return JSON.stringify(value) ?? SUMMARY_MISSING;
  } catch {
    return SUMMARY_MISSING;
  }
}

/** Own keys only: a template cannot reach `__proto__` or inherited members. */
function lookup(value: unknown, path: string[]): unknown {
  let at = value;
  for (const key of path) {
    if (at === null || typeof at !== 'object' || Array.isArray(at) || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

// C0/C1 controls (newlines, ESC of terminal sequences), bidi embeddings/overrides/isolates, zero-width and BOM.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

function clean(text: string): string {
  return text.replace(/[\t\n\r\u2028\u2029]/g, ' ').replace(INVISIBLE, '');
}

/** Caps by code points, so a surrogate pair is never split. */
function cap(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
