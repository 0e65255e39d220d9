/**
 * The agent-facing MCP gateway end to end (issue 12): the agent is the official SDK `Client` over Streamable HTTP
 * (one test over stdio, spawning `ecp mcp serve`), the gateway is the plane's `/mcp` on the console's server, the
 * worker is a child process (so it can be killed with SIGKILL), and the downstream servers are the real npm packages
 * `@modelcontextprotocol/server-filesystem` (on a temp folder) and `server-memory`. Policies: the demo's mcp.cedar.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startConsole, type RunningConsole } from '../../api/server';
import type { PlaneConfig } from '../../config/load';
import { createAgentToken, hashAgentToken } from '../../gateway/tokens';
import { ECP_BIN, ROOT, runCommand, runEcp, type CommandRun } from '../helpers/cli';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { scratchDir } from '../helpers/scratchDir';

const require = createRequire(import.meta.url);
const entry = (pkg: string) => join(dirname(require.resolve(`${pkg}/package.json`)), 'dist', 'index.js');
const AGENT = 'files-bot';

let plane: TestPlane;
let web: RunningConsole;
let worker: ChildProcess | undefined;
let filesDir: string;
let token: string;
/** The hold time the gateway sees (tests change it; the plane's config is read per call). */
let holdTime = '20s';
/** The idempotency window the gateway sees (the bucket-edge test shortens it). */
let idempotencyWindow = '10m';
/** What the gateway logged. */
const gatewayLog: string[] = [];
/** The allowed read's evidence pack: exported and verified offline while later tests run. */
let packCheck: Promise<{ exported: CommandRun; verified: CommandRun | null }> | undefined;

async function startWorkerProcess(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'main.ts'), '--config', plane.configPath], {
    cwd: ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: plane.address, ECP_DATA_DIR: plane.dataDir, ECP_LOG_LEVEL: 'ERROR', ECP_CONSOLE_PORT: 'off' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker = child;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start within 120s:\n${output}`)), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ECP worker running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code ?? signal}) before it was running:\n${output}`));
    });
  });
}

async function killWorker(): Promise<void> {
  const child = worker;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  worker = undefined;
}

beforeAll(async () => {
  const scratch = scratchDir('ecp-mcp');
  filesDir = join(scratch, 'files');
  mkdirSync(join(filesDir, 'notes'), { recursive: true });
  writeFileSync(join(filesDir, 'README.md'), '# Demo\nRead me.\n');
  writeFileSync(join(filesDir, 'keep.txt'), 'do not move me\n');
  writeFileSync(join(filesDir, 'notes', 'log.txt'), 'ENTRY\n');
  // The token as an operator makes it: `ecp mcp token` (no configuration in that data dir: it needs none).
  const tokenRun = runCommand(
    process.execPath,
    [ECP_BIN, '--data-dir', join(scratch, 'no-data'), 'mcp', 'token', '--agent', AGENT, '--json'],
    {
      unset: ['ECP_CONFIG', 'ECP_DATA_DIR'],
    },
  );
  const made = JSON.parse((await tokenRun).stdout) as { token: string; tokenHash: string; snippet: string };
  expect(made.tokenHash).toBe(hashAgentToken(made.token));
  expect(made.snippet).toContain(`${AGENT}:\n      tokenHash: "${made.tokenHash}"`);
  token = made.token;
  plane = await startTestPlane({
    policies: { 'mcp.cedar': readFileSync(join(ROOT, 'examples', 'demo', 'mcp', 'mcp.cedar'), 'utf8') },
    mcp: {
      servers: {
        files: { command: process.execPath, args: [entry('@modelcontextprotocol/server-filesystem'), filesDir] },
        memory: {
          command: process.execPath,
          args: [entry('@modelcontextprotocol/server-memory')],
          env: { MEMORY_FILE_PATH: join(scratch, 'memory.jsonl') },
        },
      },
      agents: { [AGENT]: { tokenHash: made.tokenHash } },
      holdTime: '20s',
      progressInterval: '1s',
    },
  });
  // The worker runs as a child process (killed with SIGKILL below); the in-process one is not needed.
  await plane.stopWorker();
  await startWorkerProcess();
  const config = (): PlaneConfig => {
    const c = plane.runtime.config;
    return { ...c, mcp: { ...c.mcp!, holdTime, idempotencyWindow } };
  };
  web = await startConsole({
    port: 0,
    address: plane.address,
    namespace: 'default',
    config,
    dataDir: plane.dataDir,
    log: (line) => void gatewayLog.push(line),
  });
}, 240_000);

afterAll(async () => {
  await web?.close();
  await killWorker();
  await plane?.teardown();
});

async function agentClient(bearer = token): Promise<Client> {
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${web.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${bearer}` } } }),
  );
  return client;
}

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const attemptOf = (r: CallToolResult) => r._meta?.['ecp/attemptId'] as string;
/** Attempt workflows started so far (any agent): nothing may start on refused input. */
async function attemptCount(): Promise<number> {
  const { count } = await plane.ecp.client.workflow.count(`WorkflowType IN ('executionAttemptV2', 'executionAttempt')`);
  return count;
}
const approve = (attemptId: string) => runEcp(plane, ['approve', attemptId, '--as', 'bob'], { timeoutMs: 120_000 });

describe('the MCP gateway over Streamable HTTP', () => {
  it('lists the downstream tools under <server>__<tool>, plus ecp_attempt_status', async () => {
    const client = await agentClient();
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toContain('files__read_text_file');
    expect(names).toContain('files__write_file');
    expect(names).toContain('memory__create_entities');
    expect(names).toContain('ecp_attempt_status');
    const read = tools.find((t) => t.name === 'files__read_text_file')!;
    expect(read.annotations?.readOnlyHint).toBe(true);
    expect(read.inputSchema.properties).toHaveProperty('path');
    await client.close();
  });

  it('an allowed read passes through and returns the downstream result; its pack verifies offline', async () => {
    const client = await agentClient();
    const args = { path: join(filesDir, 'README.md') };
    const result = (await client.callTool({ name: 'files__read_text_file', arguments: args })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('# Demo\nRead me.\n');

    // The same call straight to the downstream server: the gateway returned its result as-is.
    const direct = new Client({ name: 'direct', version: '1.0.0' });
    await direct.connect(
      new StdioClientTransport({ command: process.execPath, args: [entry('@modelcontextprotocol/server-filesystem'), filesDir] }),
    );
    const straight = (await direct.callTool({ name: 'read_text_file', arguments: args })) as CallToolResult;
    await direct.close();
    expect(result.content).toEqual(straight.content);
    expect(result.structuredContent).toEqual(straight.structuredContent);

    const attemptId = attemptOf(result);
    const record = await plane.ecp.getRecord(attemptId);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.proposal).toMatchObject({ agent: AGENT, actionType: 'mcp.files.read_text_file', resource: 'mcp:files/read_text_file' });
    expect(record.proposal.parameters).toEqual(args);

    // Export and offline verification take a while (two CLI runs, a replay): they run alongside the next tests and
    // are checked by the last test of this block.
    packCheck = (async () => {
      const scratch = scratchDir('ecp-mcp-pack');
      const exported = await runEcp(plane, ['audit', 'export', attemptId, '-o', 'pack.json'], { cwd: scratch, timeoutMs: 180_000 });
      if (exported.code !== 0) return { exported, verified: null };
      const verified = await runEcp(plane, ['audit', 'verify', 'pack.json'], {
        cwd: scratch,
        env: { TEMPORAL_ADDRESS: '127.0.0.1:1' },
        timeoutMs: 180_000,
      });
      rmSync(scratch, { recursive: true, force: true });
      return { exported, verified };
    })();
    await client.close();
  });

  it('a write that needs approval is held with progress, approved with `ecp approve`, runs once; the same call again returns that outcome and writes nothing', async () => {
    const client = await agentClient();
    const target = join(filesDir, 'notes', 'plan.md');
    const args = { path: target, content: 'the plan\n' };
    const progress: string[] = [];
    const held = client.callTool({ name: 'files__write_file', arguments: args }, undefined, {
      timeout: 120_000,
      resetTimeoutOnProgress: true,
      onprogress: (p) => void progress.push(p.message ?? ''),
    }) as Promise<CallToolResult>;
    await until(() => progress.some((m) => m.startsWith('awaiting approval from sre (0/1)')), 30_000, 'a progress notification');
    const attemptId = /\(attempt (att-[0-9a-f]{32})\)/.exec(progress.find((m) => /\(attempt att-/.test(m))!)![1]!;
    expect(() => statSync(target)).toThrow();
    const approved = await approve(attemptId);
    expect(approved.code).toBe(0);
    const result = await held;
    expect(result.isError).toBeFalsy();
    expect(attemptOf(result)).toBe(attemptId);
    expect(readFileSync(target, 'utf8')).toBe('the plan\n');
    const written = statSync(target).mtimeMs;

    const again = (await client.callTool({ name: 'files__write_file', arguments: args })) as CallToolResult;
    expect(attemptOf(again)).toBe(attemptId);
    expect(again.content).toEqual(result.content);
    expect(statSync(target).mtimeMs).toBe(written);
    await client.close();
  });

  it('a hold that outlasts the hold time answers pending (not an error); ecp_attempt_status then returns the outcome', async () => {
    holdTime = '2s';
    try {
      const client = await agentClient();
      const dir = join(filesDir, 'later');
      const started = Date.now();
      const pending = (await client.callTool({ name: 'files__create_directory', arguments: { path: dir } })) as CallToolResult;
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
      expect(pending.isError).toBe(false);
      const text = textOf(pending);
      expect(text).toMatch(/pending human approval/);
      expect(text).not.toMatch(/denied|rejected|expired/i);
      const attemptId = attemptOf(pending);
      expect(text).toContain(attemptId);
      expect(text).toContain(`${web.url}/attempts/${attemptId}`);
      expect(text).toMatch(/until \d{4}-\d\d-\d\dT/);

      const waiting = (await client.callTool({ name: 'ecp_attempt_status', arguments: { attemptId } })) as CallToolResult;
      expect(waiting.isError).toBe(false);
      expect(textOf(waiting)).toMatch(/pending human approval/);
      expect((await approve(attemptId)).code).toBe(0);
      await plane.ecp.awaitOutcome(attemptId);
      const done = (await client.callTool({ name: 'ecp_attempt_status', arguments: { attemptId } })) as CallToolResult;
      expect(done.isError).toBeFalsy();
      expect(textOf(done)).toContain('Successfully created directory');
      expect(statSync(dir).isDirectory()).toBe(true);
      await client.close();
    } finally {
      holdTime = '20s';
    }
  });

  it('a denied move returns isError with the policy reasons, and the file is still there', async () => {
    const client = await agentClient();
    const source = join(filesDir, 'keep.txt');
    const result = (await client.callTool({
      name: 'files__move_file',
      arguments: { source, destination: join(filesDir, 'moved.txt') },
    })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Denied by policy/);
    expect(textOf(result)).toContain('forbidden by mcp.files.no-move');
    expect(readFileSync(source, 'utf8')).toBe('do not move me\n');
    expect((await plane.ecp.getRecord(attemptOf(result))).status).toBe('DENIED');
    await client.close();
  });

  it('identical calls across a time-bucket edge are one attempt; after the window, a new one', async () => {
    idempotencyWindow = '2s';
    try {
      const client = await agentClient();
      const read = async (file: string) =>
        attemptOf((await client.callTool({ name: 'files__get_file_info', arguments: { path: join(filesDir, file) } })) as CallToolResult);
      const bucket = () => Math.floor(Date.now() / 2_000);
      // A retry early in the next 2 s bucket, less than the window after the first call: it must find the first call's
      // attempt (the previous bucket's). A slow first call that misses that moment tries again with another file.
      let checked = false;
      for (const file of ['README.md', 'notes', 'keep.txt']) {
        await until(() => Date.now() % 2_000 >= 1_500 && Date.now() % 2_000 < 1_700, 5_000, 'late in a bucket');
        const b = bucket();
        const first = await read(file);
        await until(() => bucket() > b, 5_000, 'the next bucket');
        if (bucket() !== b + 1 || Date.now() % 2_000 >= 1_300) continue;
        expect(await read(file)).toBe(first);
        await new Promise((r) => setTimeout(r, 2_500));
        expect(await read(file)).not.toBe(first);
        checked = true;
        break;
      }
      expect(checked).toBe(true);
      await client.close();
    } finally {
      idempotencyWindow = '10m';
    }
  });

  it('a cancelled call stops waiting; its attempt goes on', async () => {
    const client = await agentClient();
    const dir = join(filesDir, 'cancelled');
    const abort = new AbortController();
    const progress: string[] = [];
    const call = client.callTool({ name: 'files__create_directory', arguments: { path: dir } }, undefined, {
      signal: abort.signal,
      onprogress: (p) => void progress.push(p.message ?? ''),
    });
    await until(() => progress.some((m) => /\(attempt att-/.test(m)), 30_000, 'the held call awaiting approval');
    const attemptId = /\(attempt (att-[0-9a-f]{32})\)/.exec(progress.find((m) => /\(attempt att-/.test(m))!)![1]!;
    abort.abort();
    await expect(call).rejects.toThrow();
    // The client's notifications/cancelled reached the held call and ended its wait (well before the 20 s hold) …
    await until(
      () => gatewayLog.some((l) => l.includes(`cancelled its call of files__create_directory; attempt ${attemptId}`)),
      5_000,
      'the hold to end',
    );
    // … and the attempt itself is untouched: it still waits for a human.
    expect((await plane.ecp.getRecord(attemptId)).status).toBe('AWAITING_DECISION');
    const status = (await client.callTool({ name: 'ecp_attempt_status', arguments: { attemptId } })) as CallToolResult;
    expect(textOf(status)).toMatch(/pending human approval/);
    expect(() => statSync(dir)).toThrow();
    await client.close();
  });

  it('an agent cannot read another agent’s attempt through ecp_attempt_status', async () => {
    const client = await agentClient();
    const { attemptId } = await plane.ecp.propose({
      agent: 'refund-bot',
      actionType: 'payments.refund',
      resource: 'order-1001',
      parameters: { orderId: 'order-1001', amount: 7500, reason: 'x' },
      justification: 'test',
      idempotencyKey: `other-${Date.now()}`,
    });
    const result = (await client.callTool({ name: 'ecp_attempt_status', arguments: { attemptId } })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(`No attempt ${attemptId} of agent ${AGENT}.`);
    await client.close();
  });
});

describe('refused before any attempt starts', () => {
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  };
  const post = (headers: Record<string, string>) =>
    fetch(`${web.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify(initialize),
    });

  it('no token, a malformed token, an unknown token → 401 with WWW-Authenticate: Bearer and a JSON-RPC error', async () => {
    const before = await attemptCount();
    const cases: Record<string, string>[] = [
      {},
      { authorization: 'Bearer not-a-token' },
      { authorization: `Bearer ${createAgentToken().token}` },
      { authorization: `Basic ${token}` },
    ];
    for (const headers of cases) {
      const response = await post(headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
      const body = (await response.json()) as { jsonrpc: string; error: { code: number; message: string } };
      expect(body.jsonrpc).toBe('2.0');
      expect(body.error.message).toMatch(/token/);
    }
    // The SDK client too: it cannot even connect.
    await expect(agentClient(createAgentToken().token)).rejects.toThrow(/401|invalid token/i);
    expect(await attemptCount()).toBe(before);
  });

  it('a session opened by one agent is not usable with no token', async () => {
    const opened = await post({ authorization: `Bearer ${token}` });
    const session = opened.headers.get('mcp-session-id')!;
    expect(session).toBeTruthy();
    const response = await fetch(`${web.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(response.status).toBe(401);
  });

  it('a browser origin other than localhost is refused (DNS rebinding)', async () => {
    const response = await post({ authorization: `Bearer ${token}`, origin: 'http://evil.example' });
    expect(response.status).toBe(403);
  });

  it('a malformed tools/call, an unknown tool → JSON-RPC -32602 naming it; arguments failing the schema → isError naming the field; nothing starts', async () => {
    const client = await agentClient();
    await client.listTools();
    const before = await attemptCount();
    const rpcError = async (params: Record<string, unknown>) => {
      try {
        await client.request({ method: 'tools/call', params }, CallToolResultSchema);
      } catch (err) {
        return err as McpError;
      }
      throw new Error('expected an error');
    };
    const noName = await rpcError({ arguments: {} });
    expect(noName.code).toBe(ErrorCode.InvalidParams);
    const badArgs = await rpcError({ name: 'files__read_text_file', arguments: 'README.md' });
    expect(badArgs.code).toBe(ErrorCode.InvalidParams);
    const proto = await rpcError({ name: 'files__read_text_file', arguments: JSON.parse('{"path":"x","__proto__":{"a":1}}') });
    expect(proto.code).toBe(ErrorCode.InvalidParams);
    expect(proto.message).toContain('__proto__');
    const unknown = await rpcError({ name: 'files__format_disk', arguments: {} });
    expect(unknown.code).toBe(ErrorCode.InvalidParams);
    expect(unknown.message).toContain('unknown tool "files__format_disk"');

    const invalid = (await client.callTool({
      name: 'files__write_file',
      arguments: { path: join(filesDir, 'x.txt'), content: 42 },
    })) as CallToolResult;
    expect(invalid.isError).toBe(true);
    expect(textOf(invalid)).toContain('argument "content" must be string');
    const missing = (await client.callTool({ name: 'files__write_file', arguments: { content: 'x' } })) as CallToolResult;
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toContain('argument "path" is required');
    expect(() => statSync(join(filesDir, 'x.txt'))).toThrow();
    expect(await attemptCount()).toBe(before);
    await client.close();
  });
});

describe('the gateway on stdio (`ecp mcp serve`)', () => {
  it('serves the configured agent: a read runs and answers; logs stay off stdout', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [ECP_BIN, 'mcp', 'serve', '--agent', AGENT],
      env: {
        ...(process.env as Record<string, string>),
        TEMPORAL_ADDRESS: plane.address,
        ECP_DATA_DIR: plane.dataDir,
        ECP_CONFIG: plane.configPath,
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'desktop', version: '1.0.0' });
    await client.connect(transport);
    const result = (await client.callTool({
      name: 'files__read_text_file',
      arguments: { path: join(filesDir, 'README.md') },
    })) as CallToolResult;
    expect(textOf(result)).toBe('# Demo\nRead me.\n');
    expect((await plane.ecp.getRecord(attemptOf(result))).proposal.agent).toBe(AGENT);
    await client.close();
  });

  it('refuses an agent that is not in the directory', async () => {
    const run = await runEcp(plane, ['mcp', 'serve', '--agent', 'nobody'], { timeoutMs: 60_000 });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('"nobody" is not an agent in the directory');
    expect(run.stdout).toBe('');
  });
});

describe('the worker killed with kill -9 while a call is held', () => {
  it('the attempt survives; the approval still executes the edit exactly once and the held call returns it', async () => {
    const client = await agentClient();
    const log = join(filesDir, 'notes', 'log.txt');
    // Applied twice, this edit would add two lines: "ENTRY" is still there after it.
    const args = { path: log, edits: [{ oldText: 'ENTRY', newText: 'ENTRY\nadded by the agent' }] };
    const progress: string[] = [];
    holdTime = '90s';
    try {
      const held = client.callTool({ name: 'files__edit_file', arguments: args }, undefined, {
        timeout: 180_000,
        resetTimeoutOnProgress: true,
        onprogress: (p) => void progress.push(p.message ?? ''),
      }) as Promise<CallToolResult>;
      // Early progress may still say "attempt att-… is evaluating"; the awaiting one ends "(attempt att-…)".
      const awaiting = /\(attempt (att-[0-9a-f]{32})\)/;
      await until(() => progress.some((m) => awaiting.test(m)), 30_000, 'the held call awaiting approval');
      const attemptId = awaiting.exec(progress.find((m) => awaiting.test(m))!)![1]!;
      await killWorker();
      const seen = progress.length;
      // Held through the worker's death: progress goes on (last known state), the call does not end.
      await until(() => progress.length >= seen + 2, 10_000, 'progress with the worker dead');
      await startWorkerProcess();
      expect((await approve(attemptId)).code).toBe(0);
      const result = await held;
      expect(result.isError).toBeFalsy();
      expect(attemptOf(result)).toBe(attemptId);
      expect(readFileSync(log, 'utf8')).toBe('ENTRY\nadded by the agent\n');
      const again = (await client.callTool({ name: 'files__edit_file', arguments: args })) as CallToolResult;
      expect(attemptOf(again)).toBe(attemptId);
      expect(readFileSync(log, 'utf8')).toBe('ENTRY\nadded by the agent\n');
    } finally {
      holdTime = '20s';
      await client.close();
    }
  });
});

describe('the allowed read’s evidence pack', () => {
  it('exports and verifies offline (PASS)', async () => {
    const { exported, verified } = await packCheck!;
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(verified?.stdout).toMatch(/^PASS .*pack\.json/m);
    expect(verified?.code).toBe(0);
  });
});

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
