import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The layering rules (.dependency-cruiser.cjs, run by `npm run lint`) hold on the real tree, and each rule can fail:
// a throw-away tree with one deliberately bad import per rule must violate every rule the config has.

const ROOT = resolve(import.meta.dirname, '..', '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Rule {
  name: string;
  to: { path?: string };
}
interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

const config = createRequire(import.meta.url)(CONFIG) as { forbidden: Rule[] };

/** Runs depcruise with the project's config in `cwd` and returns its violations. */
function cruise(cwd: string): Violation[] {
  const run = spawnSync(process.execPath, [DEPCRUISE, '--config', CONFIG, '--output-type', 'json', '.'], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (!run.stdout) throw new Error(`depcruise produced no report (exit ${run.status}): ${run.stderr}`);
  return (JSON.parse(run.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('layers (.dependency-cruiser.cjs)', () => {
  it('the real tree has no violations: no cycles, no backward imports', () => {
    const violations = cruise(ROOT);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  }, 180_000);

  describe('each rule can fail', () => {
    let dir: string;
    let violations: Violation[];
    const file = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'ecp-layers-'));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      file('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler', strict: true } }));
      // Every layer rule: its layer imports the first layer it must not import.
      for (const rule of config.forbidden.filter((r) => /^layer-[a-z]+$/.test(r.name) && r.name !== 'layer-unknown')) {
        const layer = rule.name.slice('layer-'.length);
        const target = /^\^\(([a-z]+)/.exec(rule.to.path ?? '')?.[1];
        if (!target) throw new Error(`rule ${rule.name} has no target layers to test`);
        file(`${target}/ok.ts`, 'export const ok = 1;\n');
        file(`${layer}/up.ts`, `import { ok } from '../${target}/ok';\nexport const up = ok;\n`);
      }
      // Allowed: a downward import, and the one types-only exception (workflows typing its activities).
      file('common/base.ts', 'export const base = 1;\n');
      file('config/down.ts', "import { base } from '../common/base';\nexport const down = base;\n");
      file('activities/index.ts', 'export const activities = { a: () => 1 };\nexport type Acts = typeof activities;\n');
      file('workflows/typed.ts', "import type { Acts } from '../activities';\nexport type T = Acts;\n");
      // Not allowed: a runtime import of activities from workflow code.
      file('workflows/runtime.ts', "import { activities } from '../activities';\nexport const r = activities;\n");
      file('common/cycleA.ts', "import { b } from './cycleB';\nexport const a = () => b;\n");
      file('common/cycleB.ts', "import { a } from './cycleA';\nexport const b = () => a;\n");
      file('test/helper.ts', 'export const helper = 1;\n');
      file('bin/run.ts', "import { helper } from '../test/helper';\nexport const r = helper;\n");
      file('workflows/node.ts', "import { Worker } from '@temporalio/worker';\nexport const w = Worker;\n");
      file('common/core.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n");
      file('workflows/bundle.ts', "import { readFileSync } from 'node:fs';\nexport const b = readFileSync;\n");
      file('workflows/usesBundle.ts', "import { b } from './bundle';\nexport const u = b;\n");
      file('ui/server.ts', "import { Hono } from 'hono';\nexport const h = Hono;\n");
      file('ui/core.ts', "import { createHash } from 'node:crypto';\nexport const c = createHash;\n");
      // Allowed for config/ as a layer, but not reachable from the CLI's policy-free configuration reader.
      file('policy/engine.ts', 'export const engine = 1;\n');
      file('config/viaPolicy.ts', "import { engine } from '../policy/engine';\nexport const v = engine;\n");
      file('config/withoutPolicies.ts', "import { v } from './viaPolicy';\nexport const w = v;\n");
      file('newfolder/x.ts', "import { base } from '../common/base';\nexport const x = base;\n");
      file('common/typo.ts', "import { nope } from './doesNotExist';\nexport const t = nope;\n");
      violations = cruise(dir);
    }, 180_000);

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const rulesAt = (from: string) => violations.filter((v) => v.from === from).map((v) => v.rule.name);

    it('every rule in the config is violated by the bad tree', () => {
      const violated = new Set(violations.map((v) => v.rule.name));
      expect(config.forbidden.map((r) => r.name).filter((name) => !violated.has(name))).toEqual([]);
    });

    it('names the rule each bad import breaks', () => {
      expect(rulesAt('common/cycleA.ts')).toContain('no-circular');
      expect(rulesAt('workflows/runtime.ts')).toContain('layer-workflows-types-only');
      expect(rulesAt('bin/run.ts')).toEqual(['leaves-not-imported']);
      expect(rulesAt('workflows/node.ts')).toContain('workflow-sandbox-no-node');
      expect(rulesAt('common/core.ts')).toContain('workflow-sandbox-no-core');
      expect(rulesAt('workflows/usesBundle.ts')).toContain('workflow-bundle-not-in-sandbox');
      expect(rulesAt('ui/server.ts')).toContain('ui-browser-only');
      expect(rulesAt('ui/core.ts')).toContain('ui-no-core');
      expect(rulesAt('config/withoutPolicies.ts')).toEqual(['config-without-policies-no-cedar']);
      expect(rulesAt('config/viaPolicy.ts')).toEqual([]);
      expect(rulesAt('newfolder/x.ts')).toEqual(['layer-unknown']);
      expect(rulesAt('common/typo.ts')).toContain('no-unresolvable');
      for (const rule of config.forbidden.filter((r) => /^layer-[a-z]+$/.test(r.name) && r.name !== 'layer-unknown')) {
        expect(rulesAt(`${rule.name.slice('layer-'.length)}/up.ts`)).toContain(rule.name);
      }
    });

    it('allows downward imports, the bundler file, and workflow code typing its activities', () => {
      expect(rulesAt('config/down.ts')).toEqual([]);
      expect(rulesAt('workflows/typed.ts')).toEqual([]);
      expect(rulesAt('workflows/bundle.ts')).toEqual([]);
    });
  });
});
