import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { scriptsOfWord, textWarnings, textWarningsFor } from '../../common/textWarnings';

describe('text warnings: values that may look like a different value', () => {
  it('flags a word mixing Latin and Cyrillic ("раypal" with Cyrillic р and а)', () => {
    const lookalike = '\u0440\u0430ypal';
    expect(lookalike).not.toBe('paypal');
    expect(scriptsOfWord(lookalike)).toEqual(['Cyrillic', 'Latin']);
    const [w, ...rest] = textWarningsFor(`pay ${lookalike} now`, 'parameters.payee');
    expect(rest).toEqual([]);
    expect(w).toMatchObject({ path: 'parameters.payee', kind: 'mixed_scripts' });
    expect(w!.message).toContain(JSON.stringify(lookalike));
    expect(w!.message).toMatch(/Cyrillic and Latin/);
  });

  it('flags text that is not NFC-normalised (e + combining acute) but not its NFC form', () => {
    const decomposed = 'cafe\u0301';
    expect(textWarningsFor(decomposed, 'claims.shop').map((w) => w.kind)).toEqual(['not_nfc']);
    expect(textWarningsFor(decomposed.normalize('NFC'), 'claims.shop')).toEqual([]);
  });

  it('does not flag ordinary text: one script per word, digits, Japanese and Korean with Latin', () => {
    for (const text of [
      'paypal',
      'Müller & Søn',
      'order-1001',
      'Привет мир',
      'Ελλάδα',
      '東京タワーとTokyo',
      '서울Seoul',
      'x2',
      '',
      'ok 123 ПАО Sber',
    ]) {
      expect(textWarningsFor(text, 'p'), text).toEqual([]);
    }
  });

  it('never flags single-script ASCII text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii' }), (s) => {
        expect(textWarningsFor(s, 'p')).toEqual([]);
      }),
      { numRuns: 300, seed: 39 },
    );
  });

  it('walks nested parameters, arrays and keys, naming each path', () => {
    const warnings = textWarnings(
      { payee: '\u0440aypal', items: [{ name: 'ok' }, { name: 'cafe\u0301' }], ['\u0430dmin']: 1 },
      'parameters',
    );
    expect(warnings.map((w) => [w.path, w.kind])).toEqual([
      ['parameters.payee', 'mixed_scripts'],
      ['parameters.items[1].name', 'not_nfc'],
      ['parameters.\u0430dmin', 'mixed_scripts'],
    ]);
    expect(warnings[2]!.message).toMatch(/^the key of/);
  });
});
