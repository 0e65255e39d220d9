import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { EcpError } from '../../../common';
import { loadPlaneConfig } from '../../../config/load';
import { loadPolicyBundle } from '../../../policy/bundle';
import { demoConfigFiles } from './demoConfig';

/** Every path to a value in a parsed YAML document (objects and arrays), so a mutation can target any field. */
function paths(value: unknown, prefix: PropertyKey[] = []): PropertyKey[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries: Array<[PropertyKey, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function mutate(doc: unknown, path: PropertyKey[], op: 'set' | 'delete', value: unknown): unknown {
  if (path.length === 0) return op === 'set' ? value : null;
  let node = doc as Record<PropertyKey, unknown>;
  for (const k of path.slice(0, -1)) node = node[k as string] as Record<PropertyKey, unknown>;
  const last = path.at(-1)! as string;
  if (op === 'delete') delete node[last];
  else node[last] = value;
  return doc;
}

/** Loads, and classifies: valid, or an EcpError that names the file — never a raw TypeError or the like. */
function load(config: string): EcpError | null {
  try {
    loadPlaneConfig(config);
    return null;
  } catch (err) {
    if (!(err instanceof EcpError))
      throw new Error(`loadPlaneConfig crashed with ${(err as Error)?.constructor?.name}: ${String((err as Error)?.stack ?? err)}`);
    return err;
  }
}

const value = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('', -1, 0, 1e9, 'sha256:x', '${env:NOPE}', '90x', []),
);

describe('configuration files (property-based)', () => {
  for (const which of ['config', 'directory', 'actionTypes'] as const) {
    it(`a mutation anywhere in ${which === 'config' ? 'ecp.yaml' : which === 'directory' ? 'directory.yaml' : 'action-types.yaml'} is loaded or refused with an EcpError naming the file (and the field)`, () => {
      const files = demoConfigFiles();
      const original = parse(readFileSync(files[which], 'utf8')) as unknown;
      const allPaths = paths(original);
      let refused = 0;
      fc.assert(
        fc.property(fc.constantFrom(...allPaths), fc.constantFrom('set' as const, 'delete' as const), value, (path, op, v) => {
          writeFileSync(files[which], stringify(mutate(structuredClone(original), path, op, v)) ?? '');
          const error = load(files.config);
          if (!error) return;
          refused++;
          expect(['config_invalid', 'policy_invalid']).toContain(error.code);
          // The message leads with the file that is wrong (or lists cross-file problems under ecp.yaml).
          expect(error.message, error.message).toMatch(
            new RegExp(`${basename(files[which]).replace('.', '\\.')}|ecp\\.yaml|directory\\.yaml|action-types\\.yaml`),
          );
          if (error.field) expect(error.message).toContain(`field "${error.field}"`);
        }),
        { numRuns: 50, seed: 21 },
      );
      expect(refused).toBeGreaterThan(0);
    }, 120_000);
  }

  it('a file that is not YAML at all is refused with file and line', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), (text) => {
        const files = demoConfigFiles();
        writeFileSync(files.directory, text);
        const error = load(files.config);
        if (error) expect(error.message).toContain('directory.yaml');
      }),
      { numRuns: 100, seed: 22 },
    );
  }, 120_000);
});

describe('policies (property-based)', () => {
  const files = demoConfigFiles();
  const policy = readFileSync(`${files.policies}/refunds.cedar`, 'utf8');
  const edit = fc.oneof(
    // Random text spliced into a valid policy, or random text instead of it.
    fc
      .tuple(fc.integer({ min: 0, max: policy.length }), fc.integer({ min: 0, max: 20 }), fc.string({ maxLength: 20 }))
      .map(([at, cut, insert]) => policy.slice(0, at) + insert + policy.slice(at + cut)),
    fc.string({ maxLength: 300 }),
    fc.constantFrom(
      '@requires_approval("finance") @quorum("0") permit (principal, action, resource);',
      '@deadline("soon") permit (principal, action, resource);',
      'forbid (principal, action, resource) when { context.nope };',
    ),
  );
  it('random Cedar text is accepted or refused with an EcpError naming file:line, never a crash', () => {
    let refused = 0;
    fc.assert(
      fc.property(edit, (text) => {
        writeFileSync(`${files.policies}/refunds.cedar`, text);
        try {
          loadPolicyBundle(files.policies, { defaultDeadlineSeconds: 3600 });
        } catch (err) {
          if (!(err instanceof EcpError)) throw new Error(`loadPolicyBundle crashed with ${String(err)}`);
          refused++;
          expect(err.code).toBe('policy_invalid');
          expect(err.message, err.message).toMatch(/refunds\.cedar(:\d+)?/);
        }
      }),
      { numRuns: 150, seed: 23 },
    );
    expect(refused).toBeGreaterThan(0);
  }, 120_000);
});
