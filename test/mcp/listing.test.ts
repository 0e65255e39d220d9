import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcpClient } from '../../client';
import { ListingSealVerifier } from '../../client/listingSeal';
import { LocalKeptStore } from '../../audit/store/kept';
import { mcpServerSchema } from '../../config/schema';
import { connectMcpServer } from '../../activities/mcp/connection';
import { MCP_EVALUATION_LISTING_MAX_AGE_MS, MCP_EXECUTION_LISTING_MAX_AGE_MS, McpDownstream } from '../../activities/mcp/downstream';
import { workerSchemaValidators } from '../../activities/mcp/schemaValidators';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { uniqueKey, waitForStatus } from '../helpers/attempts';
import { scratchDir } from '../helpers/scratchDir';

/*
 * What an MCP attempt's listings of its server's tools cost, and that cutting them keeps the rug-pull check: real
 * downstream servers (server-filesystem, and a fixture that counts its listings), a real Temporal dev server.
 */

const require = createRequire(import.meta.url);
const FILESYSTEM = join(dirname(require.resolve('@modelcontextprotocol/server-filesystem/package.json')), 'dist', 'index.js');
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'rugPullServer.mjs');

const POLICIES = {
  'mcp.cedar': `
@id("mcp.rug-auto")
permit (principal == Agent::"refund-bot", action in Action::"mcp.rug", resource);
`,
};

let plane: TestPlane;
let ecp: EcpClient;
let work: string;
let marker: string;
let count: string;
let lists: string;
const previousDataDir = process.env.ECP_DATA_DIR;
const listings = () => (existsSync(lists) ? readFileSync(lists, 'utf8').split('\n').filter(Boolean).length : 0);
const ran = () => (existsSync(count) ? readFileSync(count, 'utf8') : '');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  work = scratchDir('ecp-mcp-listing');
  marker = join(work, 'marker');
  count = join(work, 'count');
  lists = join(work, 'lists');
  process.env.ECP_DATA_DIR = scratchDir('ecp-mcp-listing-data');
  plane = await startTestPlane({
    policies: POLICIES,
    mcp: {
      servers: {
        rug: {
          command: process.execPath,
          args: [FIXTURE],
          env: { RUG_MARKER: marker, RUG_COUNT: count, RUG_LISTS: lists },
          retry: { maximumAttempts: 1 },
        },
      },
    },
  });
  ecp = new EcpClient(
    new Client({ connection: plane.env.connection, namespace: 'default' }),
    plane.runtime.config,
    new ListingSealVerifier(plane.planeKey),
  );
}, 60_000);

afterAll(async () => {
  await plane?.teardown();
  rmSync(work, { recursive: true, force: true });
  if (previousDataDir === undefined) delete process.env.ECP_DATA_DIR;
  else process.env.ECP_DATA_DIR = previousDataDir;
});

const proposeSet = (key: string) =>
  ecp.propose({
    agent: 'refund-bot',
    actionType: 'mcp.rug.set_value',
    resource: 'mcp',
    parameters: { key },
    justification: 'MCP listing test',
    idempotencyKey: uniqueKey('listing'),
  });

describe('downstream tool listings', () => {
  it('compiles each output schema once per worker, however often the tools are listed, and still checks outputs', async () => {
    const config = mcpServerSchema.parse({ command: process.execPath, args: [FILESYSTEM, work] });
    const connection = await connectMcpServer('filesystem', config, () => {});
    try {
      const first = await connection.client.listTools();
      const withOutput = first.tools.filter((t) => t.outputSchema);
      expect(withOutput.length).toBeGreaterThan(0);
      // The worker's provider compiled them: each distinct schema once (tools may share one; another test may have
      // listed this server first).
      const distinct = new Set(withOutput.map((t) => JSON.stringify(t.outputSchema))).size;
      const compiled = workerSchemaValidators.compilations;
      expect(compiled).toBeGreaterThanOrEqual(distinct);
      for (let i = 0; i < 3; i++) await connection.client.listTools();
      // Before: the SDK compiled every output schema again on each listing (its own Ajv, outside this provider).
      expect(workerSchemaValidators.compilations).toBe(compiled);
      // The cached validators still check: a structured result of the wrong shape is refused.
      const validate = workerSchemaValidators.getValidator(withOutput[0]!.outputSchema as never);
      expect(validate('not an object').valid).toBe(false);
      writeFileSync(join(work, 'read.txt'), 'structured\n');
      const result = await connection.client.callTool({ name: 'read_text_file', arguments: { path: join(work, 'read.txt') } });
      expect(JSON.stringify(result.structuredContent)).toContain('structured');
    } finally {
      await connection.client.close();
    }
  });

  it('concurrent refreshes of one server share a listing that had not started; a later refresh always lists anew', async () => {
    const data = scratchDir('ecp-mcp-listing-ds');
    const downstream = new McpDownstream(plane.runtime, { dataDir: data, kept: new LocalKeptStore(data), log: () => {} });
    try {
      await downstream.refresh('rug');
      const before = listings();
      await Promise.all(Array.from({ length: 6 }, () => downstream.refresh('rug')));
      // One listing may be under way when the six ask; all six then share the next one.
      expect(listings() - before).toBeGreaterThanOrEqual(1);
      expect(listings() - before).toBeLessThanOrEqual(2);
      const after = listings();
      await downstream.refresh('rug');
      expect(listings()).toBe(after + 1);

      // An attempt's first evaluation uses a listing of the last MCP_EVALUATION_LISTING_MAX_AGE_MS; its re-check lists.
      const attempt = `att-${'a'.repeat(32)}`;
      expect(await downstream.refreshForEvaluation('rug', attempt)).toBe(false);
      expect(listings()).toBe(after + 1);
      expect(await downstream.refreshForEvaluation('rug', attempt)).toBe(true);
      expect(listings()).toBe(after + 2);
      await sleep(MCP_EVALUATION_LISTING_MAX_AGE_MS + 100);
      expect(await downstream.refreshForEvaluation('rug', `att-${'b'.repeat(32)}`)).toBe(true);
      expect(listings()).toBe(after + 3);
    } finally {
      await downstream.close();
      rmSync(data, { recursive: true, force: true });
    }
  }, 30_000);

  it('the executor checks the listing started when the evaluation allowed the attempt; a retry or a late executor lists anew', async () => {
    const data = scratchDir('ecp-mcp-listing-exec');
    const downstream = new McpDownstream(plane.runtime, { dataDir: data, kept: new LocalKeptStore(data), log: () => {} });
    try {
      await downstream.refresh('rug');
      const attempt = `att-${'c'.repeat(32)}`;
      const before = listings();
      downstream.prepareExecution('mcp.rug.set_value', attempt);
      await downstream.refreshForExecution('rug', attempt);
      // One listing, started when the evaluation allowed it; the executor waited for it instead of listing again.
      expect(listings()).toBe(before + 1);
      // The activity's retry (or anything after the prepared listing was taken) lists again.
      await downstream.refreshForExecution('rug', attempt);
      expect(listings()).toBe(before + 2);
      // An executor that starts too long after the evaluation does not rely on that listing.
      const late = `att-${'d'.repeat(32)}`;
      downstream.prepareExecution('mcp.rug.set_value', late);
      await sleep(MCP_EXECUTION_LISTING_MAX_AGE_MS + 100);
      expect(listings()).toBe(before + 3);
      await downstream.refreshForExecution('rug', late);
      expect(listings()).toBe(before + 4);
      // Not an MCP tool's action type, or an attempt with nothing prepared: no listing started, the executor lists.
      downstream.prepareExecution('payments.refund', `att-${'e'.repeat(32)}`);
      await sleep(50);
      expect(listings()).toBe(before + 4);
      await downstream.refreshForExecution('rug', `att-${'f'.repeat(32)}`);
      expect(listings()).toBe(before + 5);
    } finally {
      await downstream.close();
      rmSync(data, { recursive: true, force: true });
    }
  }, 30_000);

  it('a listing identical to the last one is not canonicalised and hashed again; any change is, and is a new version', async () => {
    const data = scratchDir('ecp-mcp-listing-digest');
    const downstream = new McpDownstream(plane.runtime, { dataDir: data, kept: new LocalKeptStore(data), log: () => {} });
    const version = () => plane.runtime.config.actionTypeVersions['mcp.rug.set_value'];
    try {
      writeFileSync(marker, '');
      await downstream.refresh('rug');
      const digests = downstream.digests;
      const before = version();
      for (let i = 0; i < 3; i++) await downstream.refresh('rug');
      expect(downstream.digests).toBe(digests);
      expect(version()).toBe(before);
      // A change in the description alone (no list_changed): hashed, applied, a new version.
      writeFileSync(marker, 'description');
      await downstream.refresh('rug');
      expect(downstream.digests).toBe(digests + 1);
      expect(version()).not.toBe(before);
      // And back: the earlier tool, hashed again (its text differs from the last listing's), the earlier version.
      writeFileSync(marker, '');
      await downstream.refresh('rug');
      expect(downstream.digests).toBe(digests + 2);
      expect(version()).toBe(before);
    } finally {
      await downstream.close();
      rmSync(data, { recursive: true, force: true });
    }
  }, 30_000);

  it("an auto-allowed call whose tool changes after the evaluation's listing is refused at execution; nothing runs", async () => {
    // No listing in the last seconds, so the evaluation lists (listing k+1, unchanged); the change applies from k+2 on,
    // which is the listing started for the executor when the evaluation allowed the call.
    await sleep(MCP_EVALUATION_LISTING_MAX_AGE_MS + 200);
    writeFileSync(marker, `after ${listings() + 2} description`);
    const { attemptId } = await proposeSet('after-evaluation');
    const record = await waitForStatus(ecp, attemptId, 'FAILED');
    expect(record.outcome?.ok).toBe(false);
    expect(record.outcome && !record.outcome.ok ? record.outcome.error.type : '').toBe('StaleAuthority');
    expect(ran()).not.toContain('after-evaluation');
  }, 30_000);

  it('right after another call, the evaluation may reuse its listing, and a change since is still refused at execution', async () => {
    writeFileSync(marker, 'description'); // the changed tool of the test above, steady now
    const warm = await proposeSet('warm');
    await waitForStatus(ecp, warm.attemptId, 'SUCCEEDED');
    const k = listings();
    writeFileSync(marker, `after ${k + 1} schema`);
    const { attemptId } = await proposeSet('reused');
    const record = await ecp.awaitOutcome(attemptId);
    if (record.status === 'SUCCEEDED') {
      // The evaluation listed after all (a slow machine): it then evaluated the changed tool, which is what ran.
      expect(listings()).toBeGreaterThanOrEqual(k + 2);
      expect(record.context?.actionType?.version).toBe(plane.runtime.config.actionTypeVersions['mcp.rug.set_value']);
    } else {
      expect(record.status).toBe('FAILED');
      expect(record.outcome && !record.outcome.ok ? record.outcome.error.type : '').toBe('StaleAuthority');
      expect(ran()).not.toContain('reused');
      // One listing for the whole call: the executor's.
      expect(listings()).toBe(k + 1);
    }
  }, 30_000);
});
