/**
 * Warnings for string values a human approves by reading: text that is not NFC-normalised, or a word that mixes
 * scripts (Latin "paypal" vs "раypal" with Cyrillic р and а), can look identical to a different value. Pure and
 * sandbox-safe, shared by the console API, the web console and `ecp show` so all flag the same values.
 */
import { formatPath } from './validation';

/** Why a string value may not be what it looks like. */
export type TextWarningKind = 'not_nfc' | 'mixed_scripts';

/** One flagged string value, at a path such as `parameters.payee` or `claims.items[0].name`. */
export interface TextWarning {
  path: string;
  kind: TextWarningKind;
  /** For a human: what is wrong and what the value looks like. */
  message: string;
}

// Scripts a letter may belong to, tested in order. A letter in none of them counts as its own script ("other").
const SCRIPTS = [
  'Latin',
  'Cyrillic',
  'Greek',
  'Armenian',
  'Georgian',
  'Hebrew',
  'Arabic',
  'Syriac',
  'Thaana',
  'Devanagari',
  'Bengali',
  'Gurmukhi',
  'Gujarati',
  'Oriya',
  'Tamil',
  'Telugu',
  'Kannada',
  'Malayalam',
  'Sinhala',
  'Thai',
  'Lao',
  'Tibetan',
  'Myanmar',
  'Khmer',
  'Mongolian',
  'Ethiopic',
  'Cherokee',
  'Han',
  'Hiragana',
  'Katakana',
  'Bopomofo',
  'Hangul',
  'Canadian_Aboriginal',
  'Runic',
  'Ogham',
  'Coptic',
  'Tifinagh',
  'Vai',
  'Lisu',
  'Osage',
  'Adlam',
] as const;
const scriptTests = SCRIPTS.map((name) => [name, new RegExp(`^\\p{Script=${name}}$`, 'u')] as const);

// Combinations that are normal within one word (UTS #39 "highly restrictive"): Japanese, Chinese, Korean with Latin.
const ALLOWED_MIXES: ReadonlyArray<ReadonlySet<string>> = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

const WORD = /[\p{L}\p{M}\p{N}]+/gu;
const LETTER = /^\p{L}$/u;
// Letters shared by scripts (e.g. the Japanese prolonged sound mark ー) belong to none.
const SHARED = /^[\p{Script=Common}\p{Script=Inherited}]$/u;

function scriptOf(char: string): string | null {
  if (!LETTER.test(char) || SHARED.test(char)) return null; // marks, digits and shared letters belong to no one script
  for (const [name, test] of scriptTests) if (test.test(char)) return name;
  return 'other';
}

/** The scripts of the letters in one word, in order of first appearance. */
export function scriptsOfWord(word: string): string[] {
  const seen: string[] = [];
  for (const char of word) {
    const script = scriptOf(char);
    if (script && !seen.includes(script)) seen.push(script);
  }
  return seen;
}

function mixesScripts(scripts: string[]): boolean {
  if (scripts.length < 2) return false;
  return !ALLOWED_MIXES.some((allowed) => scripts.every((s) => allowed.has(s)));
}

/** Warnings for one string, reported at `path`. */
export function textWarningsFor(text: string, path: string): TextWarning[] {
  const out: TextWarning[] = [];
  if (text.normalize('NFC') !== text) {
    out.push({ path, kind: 'not_nfc', message: `${path} is not NFC-normalised Unicode: it may look the same as a different value` });
  }
  for (const [word] of text.matchAll(WORD)) {
    const scripts = scriptsOfWord(word);
    if (mixesScripts(scripts)) {
      out.push({
        path,
        kind: 'mixed_scripts',
        message: `${path}: the word ${JSON.stringify(word)} mixes ${scripts.join(' and ')} letters: it may imitate a different value`,
      });
      break; // one mixed word is enough to flag the value
    }
  }
  return out;
}

/**
 * Warnings for every string (keys included) in a JSON value, with paths under `root` (e.g. `parameters`), in
 * document order. Bounded by the value: it walks each string once.
 */
export function textWarnings(value: unknown, root: string): TextWarning[] {
  const out: TextWarning[] = [];
  const path: PropertyKey[] = [root];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 256) return;
    if (typeof v === 'string') {
      out.push(...textWarningsFor(v, formatPath(path)));
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        path.push(i);
        walk(item, depth + 1);
        path.pop();
      });
      return;
    }
    for (const key of Object.keys(v)) {
      path.push(key);
      for (const w of textWarningsFor(key, formatPath(path))) out.push({ ...w, message: `the key of ${w.message}` });
      walk((v as Record<string, unknown>)[key], depth + 1);
      path.pop();
    }
  };
  walk(value, 0);
  return out;
}
