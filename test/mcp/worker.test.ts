import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcpClient } from '../../client';
import { ListingSealVerifier } from '../../client/listingSeal';
import { findStoredPolicyBundles } from '../../audit/bundleStore';
import { exportEvidencePack } from '../../audit/pack/export';
import { verifyPack } from '../../audit/pack/verify';
import { mcpCatalogueFile } from '../../config/mcpCatalogueFile';
import { loadPlaneConfig } from '../../config/load';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { uniqueKey, waitForStatus } from '../helpers/attempts';
import { scratchDir } from '../helpers/scratchDir';

/*
 * The worker side of MCP against real downstream servers (the npm packages, spawned over stdio) and a real Temporal
 * dev server: discovery, facts, the executor, the catalogue workflow, and the rug pull caught at the re-check.
 */

const require = createRequire(import.meta.url);
const serverJs = (pkg: string) => join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'index.js');
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'rugPullServer.mjs');

const POLICIES = {
  'mcp.cedar': `
@id("mcp.reads")
permit (principal == Agent::"refund-bot", action in Action::"mcp.filesystem", resource)
when { context.facts.tool.readOnlyHint };

@id("mcp.writes-need-finance")
@requires_approval("finance")
@quorum("1")
@deadline("1h")
@on_expiry("expire")
permit (principal == Agent::"refund-bot", action in [Action::"mcp.filesystem", Action::"mcp.rug"], resource)
when { !context.facts.tool.readOnlyHint };

@id("mcp.memory-reads")
permit (principal == Agent::"deploy-bot", action in Action::"mcp.memory", resource)
when { context.facts.tool.readOnlyHint };
`,
};

let plane: TestPlane;
let ecp: EcpClient;
let files: string;
let marker: string;
let count: string;
let approvedWrite = '';
const previousDataDir = process.env.ECP_DATA_DIR;

beforeAll(async () => {
  files = scratchDir('ecp-mcp-files');
  writeFileSync(join(files, 'hello.txt'), 'hello from downstream\n');
  marker = join(files, '..', `${files.split('/').pop()}-marker`);
  count = join(files, '..', `${files.split('/').pop()}-count`);
  // No kept catalogue from elsewhere: the configuration before discovery has none (policies name server groups).
  process.env.ECP_DATA_DIR = scratchDir('ecp-mcp-data');
  plane = await startTestPlane({
    policies: POLICIES,
    mcp: {
      servers: {
        filesystem: { command: process.execPath, args: [serverJs('@modelcontextprotocol/server-filesystem'), files] },
        memory: {
          command: process.execPath,
          args: [serverJs('@modelcontextprotocol/server-memory')],
          env: { MEMORY_FILE_PATH: join(files, '..', 'mem.jsonl') },
        },
        rug: { command: process.execPath, args: [FIXTURE], env: { RUG_MARKER: marker, RUG_COUNT: count }, retry: { maximumAttempts: 1 } },
      },
    },
  });
  // The live configuration (after discovery) for client-side checks, as a gateway process would load it.
  ecp = new EcpClient(
    new Client({ connection: plane.env.connection, namespace: 'default' }),
    plane.runtime.config,
    new ListingSealVerifier(plane.planeKey),
  );
}, 60_000);

afterAll(async () => {
  await plane?.teardown();
  rmSync(files, { recursive: true, force: true });
  rmSync(marker, { force: true });
  rmSync(count, { force: true });
  if (previousDataDir === undefined) delete process.env.ECP_DATA_DIR;
  else process.env.ECP_DATA_DIR = previousDataDir;
});

const propose = (agent: string, actionType: string, parameters: Record<string, unknown>) =>
  ecp.propose({
    agent,
    actionType,
    resource: 'mcp',
    parameters: parameters as never,
    justification: 'MCP test',
    idempotencyKey: uniqueKey('mcp'),
  });

describe('MCP worker side', () => {
  it('discovers the downstream tools as action types and keeps the catalogue and the bundle', () => {
    const types = Object.keys(plane.runtime.config.actionTypes);
    expect(types).toEqual(
      expect.arrayContaining(['mcp.filesystem.read_text_file', 'mcp.filesystem.write_file', 'mcp.memory.read_graph', 'mcp.rug.set_value']),
    );
    expect(existsSync(mcpCatalogueFile(plane.dataDir))).toBe(true);
    expect(findStoredPolicyBundles(plane.dataDir, plane.runtime.config.bundle.version)).toHaveLength(1);
    // A reader without connections (the CLI) builds the same configuration from the kept catalogue.
    process.env.ECP_DATA_DIR = plane.dataDir;
    const offline = loadPlaneConfig(plane.configPath);
    expect(offline.bundle.version).toBe(plane.runtime.config.bundle.version);
    expect(offline.actionTypeVersions['mcp.rug.set_value']).toBe(plane.runtime.config.actionTypeVersions['mcp.rug.set_value']);
  });

  it('runs an allowed read through the downstream server and returns its result as the outcome', async () => {
    const { attemptId } = await propose('refund-bot', 'mcp.filesystem.read_text_file', { path: join(files, 'hello.txt') });
    const record = await waitForStatus(ecp, attemptId, 'SUCCEEDED').catch(async (err) => {
      console.log(JSON.stringify(await ecp.getRecord(attemptId), null, 1).slice(0, 4000));
      throw err;
    });
    expect(record.context?.facts).toEqual({
      tool: {
        server: 'filesystem',
        name: 'read_text_file',
        readOnlyHint: true,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    });
    expect(JSON.stringify(record.outcome)).toContain('hello from downstream');
  });

  it('holds a write for approval, then writes the file exactly once', async () => {
    const path = join(files, 'approved.txt');
    const { attemptId } = await propose('refund-bot', 'mcp.filesystem.write_file', { path, content: 'once\n' });
    await waitForStatus(ecp, attemptId, 'AWAITING_DECISION');
    expect(existsSync(path)).toBe(false);
    await ecp.decide(attemptId, { human: 'alice', verdict: 'approve', privateKey: plane.key('alice') });
    await waitForStatus(ecp, attemptId, 'SUCCEEDED');
    expect(readFileSync(path, 'utf8')).toBe('once\n');
    approvedWrite = attemptId;
  });

  it('answers the catalogue an agent sees, hiding tools no permit can match', async () => {
    const catalogue = await ecp.mcpCatalogue('refund-bot');
    const names = catalogue.tools.map((t) => t.exposedName);
    expect(names).toContain('filesystem__read_text_file');
    expect(names).toContain('rug__set_value');
    expect(names).not.toContain('memory__read_graph');
    expect(catalogue.hidden.map((h) => h.exposedName)).toContain('memory__read_graph');
    const read = catalogue.tools.find((t) => t.exposedName === 'filesystem__read_text_file')!;
    expect(read.actionType).toBe('mcp.filesystem.read_text_file');
    expect(read.version).toBe(plane.runtime.config.actionTypeVersions['mcp.filesystem.read_text_file']);
    const memory = await ecp.mcpCatalogue('deploy-bot');
    expect(memory.tools.map((t) => t.exposedName)).toContain('memory__read_graph');
    expect(memory.tools.map((t) => t.exposedName)).not.toContain('filesystem__read_text_file');
    // Catalogue workflows are never listed as attempts.
    const listed = await ecp.listAttempts({}, 1000);
    expect(listed.every((a) => a.attemptId.startsWith('att-'))).toBe(true);
  });

  for (const change of ['description', 'schema'] as const) {
    it(`denies at the re-check when the tool's ${change} changed while the attempt waited; nothing runs`, async () => {
      rmSync(marker, { force: true });
      const { attemptId } = await propose('refund-bot', 'mcp.rug.set_value', { key: change });
      await waitForStatus(ecp, attemptId, 'AWAITING_DECISION');
      writeFileSync(marker, change);
      await ecp.decide(attemptId, { human: 'alice', verdict: 'approve', privateKey: plane.key('alice') });
      const record = await waitForStatus(ecp, attemptId, 'DENIED');
      expect(JSON.stringify(record)).toContain('configuration changed since evaluation');
      expect(existsSync(count) ? readFileSync(count, 'utf8') : '').not.toContain(change);
      // The rebuilt bundle (new tool declaration) is kept for auditors too.
      expect(findStoredPolicyBundles(plane.dataDir, plane.runtime.config.bundle.version)).toHaveLength(1);
    });
  }

  it('exports a verifiable pack of an MCP attempt after the catalogue changed, from the kept bundle', async () => {
    // The rug-pull tests above changed the catalogue: the live bundle is no longer the one the write was evaluated under.
    const pinned = (await ecp.getRecord(approvedWrite)).advice?.bundleVersion;
    expect(pinned).toBeDefined();
    expect(pinned).not.toBe(plane.runtime.config.bundle.version);
    // A reader configured with the live catalogue (as the CLI is, from the catalogue file) finds it only in the store.
    const reader = new EcpClient(ecp.client, plane.runtime.config, new ListingSealVerifier(plane.planeKey));
    const pack = await exportEvidencePack(reader, approvedWrite, { dataDir: plane.dataDir });
    const verification = await verifyPack(pack, { replay: false });
    expect(verification.checks.filter((c) => !c.ok && !c.advisory)).toEqual([]);
    expect(verification.verdict).toBe('CONSISTENT');
  });
});
