/**
 * docs/temporal-contract.md is the contract any Temporal client relies on: every workflow type, task queue, singleton
 * workflow ID, signal, update, query and search attribute the code defines must be named there, and every message the
 * page names must exist in the code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONTROLS_WORKFLOW_ID,
  CONTROLS_WORKFLOW_TYPE,
  ECP_SEARCH_ATTRIBUTES,
  NOTIFICATION_ID_PREFIX,
  NOTIFICATION_TASK_QUEUE,
  NOTIFICATION_WORKFLOW_TYPE,
  NOTIFIER_WORKFLOW_ID,
  NOTIFIER_WORKFLOW_TYPE,
  TASK_QUEUE,
  WORKFLOW_TYPE,
} from '../../common';
import { MCP_CATALOGUE_ID_PREFIX, MCP_CATALOGUE_WORKFLOW } from '../../common/mcp';
import { MCP_RELAY_WORKFLOW } from '../../common/mcpRelay';
import { ARCHIVER_WORKFLOW_ID, ARCHIVER_WORKFLOW_TYPE } from '../../workflows/archiver';
import * as workflows from '../../workflows';
import { ROOT } from '../helpers/cli';

const doc = readFileSync(join(ROOT, 'docs', 'temporal-contract.md'), 'utf8');
/** Names the page writes as code: `name`, or the start of a `prefix…` pattern. */
const named = (name: string) => doc.includes(`\`${name}`);

/** `define(Signal|Update|Query)<…>('name')` in the sandbox code: every message a workflow takes. */
function definedMessages(): Array<{ kind: 'signal' | 'update' | 'query'; name: string; file: string }> {
  const out: Array<{ kind: 'signal' | 'update' | 'query'; name: string; file: string }> = [];
  for (const dir of ['common', 'workflows']) {
    for (const file of readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(ROOT, dir, file), 'utf8');
      for (const m of text.matchAll(/define(Signal|Update|Query)\b[^=]*?\(\s*'([A-Za-z][A-Za-z0-9]*)'\s*\)/g)) {
        out.push({ kind: m[1]!.toLowerCase() as 'signal' | 'update' | 'query', name: m[2]!, file: `${dir}/${file}` });
      }
    }
  }
  return out;
}

describe('docs/temporal-contract.md names everything the plane defines', () => {
  it('every workflow type the workers register (workflows/index.ts) and its constant', () => {
    const exported = Object.entries(workflows)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k);
    expect(exported.length).toBeGreaterThanOrEqual(7);
    for (const type of [
      ...exported,
      WORKFLOW_TYPE,
      CONTROLS_WORKFLOW_TYPE,
      NOTIFIER_WORKFLOW_TYPE,
      NOTIFICATION_WORKFLOW_TYPE,
      ARCHIVER_WORKFLOW_TYPE,
      MCP_CATALOGUE_WORKFLOW,
      MCP_RELAY_WORKFLOW,
    ]) {
      expect(named(type), `workflow type ${type}`).toBe(true);
    }
  });

  it('every task queue and workflow ID (singletons and prefixes)', () => {
    for (const name of [
      TASK_QUEUE,
      NOTIFICATION_TASK_QUEUE,
      CONTROLS_WORKFLOW_ID,
      NOTIFIER_WORKFLOW_ID,
      ARCHIVER_WORKFLOW_ID,
      NOTIFICATION_ID_PREFIX,
      MCP_CATALOGUE_ID_PREFIX,
    ]) {
      expect(named(name), name).toBe(true);
    }
  });

  it('every signal, update and query, with its kind', () => {
    const messages = definedMessages();
    // The scan must find the ones we know of, or it proves nothing.
    expect(messages.map((m) => m.name)).toEqual(expect.arrayContaining(['decide', 'decision', 'controlsChanged', 'control', 'freezes']));
    for (const { kind, name, file } of messages) {
      expect(new RegExp(`${kind}s? [^|\\n]*\`${name}\``, 'i').test(doc), `${kind} ${name} (${file})`).toBe(true);
    }
  });

  it('every message the page names exists in the code', () => {
    const known = new Set(definedMessages().map((m) => `${m.kind} ${m.name}`));
    const table = doc.slice(doc.indexOf("## The plane's other workflows"), doc.indexOf('**Proposal.**'));
    expect(table.length).toBeGreaterThan(0);
    // "signal `a`", "updates `a`, `b`": the names listed right after the kind.
    const claimed = [...table.matchAll(/\b(signal|update|query)s? (`[A-Za-z0-9]+`(?:, `[A-Za-z0-9]+`)*)/gi)].flatMap((m) =>
      [...m[2]!.matchAll(/`([A-Za-z0-9]+)`/g)].map((n) => `${m[1]!.toLowerCase()} ${n[1]}`),
    );
    expect(claimed.length).toBeGreaterThanOrEqual(10);
    for (const c of claimed) expect(known.has(c), c).toBe(true);
  });

  it('every search attribute', () => {
    for (const key of ECP_SEARCH_ATTRIBUTES) expect(doc, key.name).toMatch(new RegExp(`\\| \`${key.name}\` \\| `));
  });
});
