import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startConsole } from '../../api/server';
import type { BenchEnv } from '../env';
import { formatSegments, segmentsOf, type CallSegments, type TimedCall } from '../historySegments';
import { benchKey, benchRefund, runConcurrent } from '../load';
import { summarize, type Summary } from '../stats';
import { BASELINE_TASK_QUEUE } from '../workflows/index';

/** The auto-allowed read every contender makes (the demo policy `mcp.files.reads` allows read-only tools at once). */
const TOOL = 'read_text_file';
const GATEWAY_TOOL = `files__${TOOL}`;

export interface McpThroughput {
  concurrency: number;
  calls: number;
  seconds: number;
  perSecond: number;
}

export interface McpBenchResult {
  tool: string;
  /** The gateway's calls and the ECP attempts of the c=1 samples, split by segment. */
  segmentsMs: { gateway: CallSegments; attempt: CallSegments };
  /**
   * c=1, interleaved call by call: the same SDK client straight to the server, through the gateway, baseline (b), and
   * an auto-allowed ECP attempt proposed with the client library (scenario 1's), to split the gateway's cost.
   */
  latencyMs: { direct: Summary; gateway: Summary; ungoverned: Summary; attempt: Summary };
  /** What the gateway adds to a direct call: gateway − direct, at p50 and p95 (ms). */
  addedMs: { p50: number; p95: number };
  /** Closed loop at `concurrency`; `attempt` = ECP attempts by the client library, for comparison. */
  throughput: { direct: McpThroughput; gateway: McpThroughput; attempt: McpThroughput };
  ratios: {
    /** gateway ÷ direct latency. */
    p50VsDirect: number;
    p95VsDirect: number;
    /** (gateway − direct) p50 ÷ the ungoverned-workflow p50 of this run (target ≤ 1.5). */
    addedP50VsUngoverned: number;
    /** gateway p50 ÷ the ungoverned-workflow p50. */
    p50VsUngoverned: number;
    /** gateway p50 ÷ the ECP attempt's p50 (what the MCP path adds beyond the attempt workflow). */
    p50VsAttempt: number;
  };
}

/**
 * Scenario `mcp`: an auto-allowed MCP tool call (`read_text_file` of the demo's `files` server,
 * @modelcontextprotocol/server-filesystem) through the gateway (`/mcp` of a console started here, Streamable HTTP,
 * the demo agent's token) against the same SDK client calling a server of its own directly over stdio, and against
 * baseline (b), the ungoverned one-activity workflow, and an auto-allowed ECP attempt (scenario 1's), in the same run. Every gateway call carries a fresh client
 * idempotency key, so each is a new attempt (never an idempotent replay of an earlier one).
 */
export async function runMcp(
  env: BenchEnv,
  options: { latencyRuns: number; concurrency: number; calls: number; log: (s: string) => void },
): Promise<McpBenchResult> {
  const require = createRequire(import.meta.url);
  const serverJs = join(dirname(require.resolve('@modelcontextprotocol/server-filesystem/package.json')), 'dist', 'index.js');
  const args = { path: join(env.mcp.filesDir, 'README.md') };
  const web = await startConsole({
    port: 0,
    address: env.address,
    namespace: 'default',
    config: () => env.runtime.config,
    dataDir: env.dataDir,
    log: () => {},
  });
  const direct = new Client({ name: 'bench-direct', version: '1.0.0' });
  const gateway = new Client({ name: 'bench-agent', version: '1.0.0' });
  try {
    await direct.connect(new StdioClientTransport({ command: process.execPath, args: [serverJs, env.mcp.filesDir] }));
    await gateway.connect(
      new StreamableHTTPClientTransport(new URL(`${web.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${env.mcp.token}` } },
      }),
    );
    let expected = '';
    const directRun = async () => {
      const r = (await direct.callTool({ name: TOOL, arguments: args })) as CallToolResult;
      if (r.isError) throw new Error(`direct ${TOOL} failed: ${JSON.stringify(r.content)}`);
      expected = JSON.stringify(r.content);
    };
    // Caller clock (ms since the epoch) before and after each measured call, with its attempt, for `segmentsMs`.
    const timed: Record<'gateway' | 'attempt', TimedCall[]> = { gateway: [], attempt: [] };
    let measuring = false;
    const gatewayRun = async () => {
      const sent = Date.now();
      const r = (await gateway.callTool({
        name: GATEWAY_TOOL,
        arguments: args,
        _meta: { 'ecp/idempotencyKey': benchKey('mcp') },
      })) as CallToolResult;
      // Anything but the downstream's own answer (a denial, a pending answer, an error) is not the path measured.
      if (r.isError || JSON.stringify(r.content) !== expected)
        throw new Error(`gateway ${GATEWAY_TOOL}: ${JSON.stringify(r.content).slice(0, 300)}`);
      if (measuring) timed.gateway.push({ attemptId: String(r._meta?.['ecp/attemptId']), sent, answered: Date.now() });
    };
    const ungovernedRun = async () => {
      const workflowId = benchKey('ungoverned');
      await env.client.workflow.execute('ungoverned', {
        workflowId,
        taskQueue: BASELINE_TASK_QUEUE,
        args: [
          {
            url: `${env.targetUrl}/refunds`,
            token: env.targetToken,
            idempotencyKey: workflowId,
            body: { orderId: 'order-bench', amount: 100, reason: 'bench' },
          },
        ],
      });
    };
    const attemptRun = async () => {
      const sent = Date.now();
      const { attemptId } = await env.ecp.propose(benchRefund(100, 'mcp-attempt'));
      const record = await env.ecp.awaitOutcome(attemptId);
      if (record.status !== 'SUCCEEDED') throw new Error(`auto-allowed attempt ${attemptId} ended ${record.status}`);
      if (measuring) timed.attempt.push({ attemptId, sent, answered: Date.now() });
    };
    const runs = { direct: directRun, gateway: gatewayRun, ungoverned: ungovernedRun, attempt: attemptRun };
    type Contender = keyof typeof runs;
    const contenders: Contender[] = ['direct', 'gateway', 'ungoverned', 'attempt'];
    // Warm-up: connections, the gateway's catalogue cache, the worker's downstream connection.
    for (const c of contenders) for (let i = 0; i < 5; i++) await runs[c]();
    const samples: Record<Contender, number[]> = { direct: [], gateway: [], ungoverned: [], attempt: [] };
    // Interleaved call by call, so drifting load on the (shared) machine hits all three alike.
    measuring = true;
    for (let i = 0; i < options.latencyRuns; i++) {
      for (const c of contenders) {
        const t0 = performance.now();
        await runs[c]();
        samples[c].push(performance.now() - t0);
      }
    }
    const latencyMs = {
      direct: summarize(samples.direct),
      gateway: summarize(samples.gateway),
      ungoverned: summarize(samples.ungoverned),
      attempt: summarize(samples.attempt),
    };
    measuring = false;
    const segmentsMs = { gateway: await segmentsOf(env.client, timed.gateway), attempt: await segmentsOf(env.client, timed.attempt) };
    const throughputOf = async (c: 'direct' | 'gateway' | 'attempt'): Promise<McpThroughput> => {
      const ms = await runConcurrent(options.calls, options.concurrency, () => runs[c]());
      return { concurrency: options.concurrency, calls: options.calls, seconds: ms / 1000, perSecond: options.calls / (ms / 1000) };
    };
    const throughput = {
      direct: await throughputOf('direct'),
      gateway: await throughputOf('gateway'),
      attempt: await throughputOf('attempt'),
    };
    const r = (x: number) => Math.round(x * 100) / 100;
    const added = { p50: r(latencyMs.gateway.p50 - latencyMs.direct.p50), p95: r(latencyMs.gateway.p95 - latencyMs.direct.p95) };
    options.log(
      `    mcp segments ms (to started / evaluation / to executor / executor / closing / to caller): gateway ${formatSegments(segmentsMs.gateway)}; ECP attempt ${formatSegments(segmentsMs.attempt)}`,
    );
    options.log(
      `    mcp c=1 p50: direct ${latencyMs.direct.p50.toFixed(1)} ms, gateway ${latencyMs.gateway.p50.toFixed(1)} ms (+${added.p50.toFixed(1)} ms), ungoverned ${latencyMs.ungoverned.p50.toFixed(1)} ms, ECP attempt ${latencyMs.attempt.p50.toFixed(1)} ms; gateway ${throughput.gateway.perSecond.toFixed(1)} calls/s at c=${options.concurrency} (ECP attempts ${throughput.attempt.perSecond.toFixed(1)}/s)`,
    );
    return {
      tool: `${GATEWAY_TOOL} (server-filesystem ${TOOL})`,
      segmentsMs,
      latencyMs,
      addedMs: added,
      throughput,
      ratios: {
        p50VsDirect: r(latencyMs.gateway.p50 / latencyMs.direct.p50),
        p95VsDirect: r(latencyMs.gateway.p95 / latencyMs.direct.p95),
        addedP50VsUngoverned: r(added.p50 / latencyMs.ungoverned.p50),
        p50VsUngoverned: r(latencyMs.gateway.p50 / latencyMs.ungoverned.p50),
        p50VsAttempt: r(latencyMs.gateway.p50 / latencyMs.attempt.p50),
      },
    };
  } finally {
    await Promise.all([direct.close().catch(() => {}), gateway.close().catch(() => {})]);
    await web.close();
  }
}
