// Metrics, traces, logs and health of a real worker process (`npm run worker`) on a real Temporal dev server: the
// test scrapes its Prometheus endpoint, receives its OTLP spans on a receiver started here, and asks its health.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcpClient } from '../../client';
import { tracingClientInterceptors } from '../../client/ecpClient';
import { ListingSealVerifier } from '../../client/listingSeal';
import { WORKFLOW_TYPE } from '../../common';
import { refund, waitForStatus } from '../helpers/attempts';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { freePort } from '../helpers/temporalServers';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

let plane: TestPlane;
let worker: ChildProcess;
let workerOutput = '';
let ecp: EcpClient;
let metricsUrl: string;
let consoleUrl: string;
const clientSpans = new InMemorySpanExporter();
let clientTracing: NodeTracerProvider;
const receivedSpans: OtlpSpan[] = [];
const targetRequests: Array<{ method: string; path: string; headers: IncomingHttpHeaders }> = [];
const servers: Server[] = [];
/** The first executor call for this refund amount answers 503 (a retryable executor failure). */
const FLAKY_AMOUNT = 1234;
let flakyServed = false;

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

const readBody = (req: import('node:http').IncomingMessage) =>
  new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });

/** An OTLP/HTTP (JSON) trace receiver, as a collector would be. */
async function startOtlpReceiver(): Promise<string> {
  const port = await listen(createServer((req, res) => void receive(req, res)));
  async function receive(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const body = JSON.parse((await readBody(req)).toString('utf8')) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
    };
    for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) receivedSpans.push(...ss.spans);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  }
  return `http://127.0.0.1:${port}`;
}

/** In front of the demo target: records what the executor sent, and fails the first call of the flaky refund. */
async function startRecordingProxy(targetUrl: string): Promise<string> {
  const port = await listen(createServer((req, res) => void forward(req, res)));
  async function forward(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const body = await readBody(req);
    targetRequests.push({ method: req.method!, path: req.url!, headers: req.headers });
    if (req.method === 'POST' && !flakyServed && body.toString('utf8').includes(`"amount":${FLAKY_AMOUNT}`)) {
      flakyServed = true;
      return void res.writeHead(503).end('try again');
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length')) as Record<
      string,
      string
    >;
    const answer = await fetch(`${targetUrl}${req.url}`, {
      method: req.method,
      headers,
      body: body.length ? new Uint8Array(body) : undefined,
    });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' }).end(await answer.text());
  }
  return `http://127.0.0.1:${port}`;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}; worker output:\n${workerOutput.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const scrape = async () => (await fetch(`${metricsUrl}/metrics`)).text();
/** The value of one sample (`name{labels}`), labels in any order; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return 0;
}

beforeAll(async () => {
  plane = await startTestPlane();
  // The worker runs as its own process, as `npm run worker` does; the test plane only provides server, config and keys.
  await plane.stopWorker();
  const otlp = await startOtlpReceiver();
  const proxy = await startRecordingProxy(plane.targetUrl);
  const [metricsPort, consolePort] = [await freePort(), await freePort()];
  metricsUrl = `http://127.0.0.1:${metricsPort}`;
  consoleUrl = `http://127.0.0.1:${consolePort}`;
  worker = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts', '--config', plane.configPath], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: plane.address,
      ECP_DATA_DIR: plane.dataDir,
      ECP_METRICS_PORT: String(metricsPort),
      ECP_CONSOLE_PORT: String(consolePort),
      ECP_LOG_FORMAT: 'json',
      ECP_ARCHIVE_INTERVAL_SECONDS: '1',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      DEMO_TARGET_URL: proxy,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (c: Buffer) => (workerOutput += c.toString()));
  worker.stderr!.on('data', (c: Buffer) => (workerOutput += c.toString()));
  // The client side of the trace: this process's tracer provider, kept in memory.
  clientTracing = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(clientSpans)] });
  clientTracing.register();
  ecp = new EcpClient(
    new Client({ connection: plane.env.connection, namespace: 'default', interceptors: tracingClientInterceptors() }),
    plane.runtime.config,
    new ListingSealVerifier(plane.planeKey),
  );
  await until('the worker to be ready', async () => (await fetch(`${metricsUrl}/readyz`)).status === 200, 120_000);
  // The console starts right after the plane is ready.
  await until('the console to listen', async () => (await fetch(consoleUrl)).status > 0);
});

afterAll(async () => {
  worker?.kill('SIGTERM');
  if (worker && worker.exitCode === null) await new Promise((r) => worker.once('exit', r));
  await clientTracing?.shutdown();
  for (const s of servers) s.close();
  await plane?.teardown();
});

describe('health', () => {
  it('the worker answers /healthz and /readyz on its metrics port, and the console on its own', async () => {
    for (const base of [metricsUrl, consoleUrl]) {
      const live = await fetch(`${base}/healthz`);
      expect(live.status, `${base}/healthz`).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status, `${base}/readyz`).toBe(200);
      expect(await ready.text()).toBe('ready\n');
    }
    expect((await fetch(`${metricsUrl}/nothing`)).status).toBe(404);
  });
});

describe('metrics', () => {
  it('counters move with the right labels as attempts start, wait, are refused, decided, fail and close', async () => {
    const before = await scrape();
    const closed = (status: string) => sample(before, 'ecp_attempts_closed_total', { action_type: 'payments.refund', status });

    const auto = await ecp.propose(refund(300, 'order-1002'));
    const flaky = await ecp.propose(refund(FLAKY_AMOUNT, 'order-1002'));
    const denied = await ecp.propose(refund(99_000)); // more than the order's total: forbidden by policy
    const large = await ecp.propose(refund(7_500));
    await waitForStatus(ecp, large.attemptId, 'AWAITING_DECISION');
    // Pending is a visibility count at scrape time: the large refund waits for finance.
    await until('pending{finance} = 1', async () => sample(await scrape(), 'ecp_pending_attempts', { group: 'finance' }) === 1);
    const refused = await ecp.decide(large.attemptId, { human: 'carol', verdict: 'approve', privateKey: plane.key('carol') });
    expect(refused.accepted).toBe(false);
    const approved = await ecp.decide(large.attemptId, { human: 'alice', verdict: 'approve', privateKey: plane.key('alice') });
    expect(approved.accepted).toBe(true);
    for (const { attemptId } of [auto, flaky, large]) await waitForStatus(ecp, attemptId, 'SUCCEEDED', 60_000);
    await waitForStatus(ecp, denied.attemptId, 'DENIED');

    const after = await until('closed attempts to be counted', async () => {
      const text = await scrape();
      return sample(text, 'ecp_attempts_closed_total', { action_type: 'payments.refund', status: 'SUCCEEDED' }) >= closed('SUCCEEDED') + 3
        ? text
        : undefined;
    });
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('ecp_attempts_started_total', { action_type: 'payments.refund' })).toBe(4);
    expect(delta('ecp_attempts_closed_total', { action_type: 'payments.refund', status: 'SUCCEEDED' })).toBe(3);
    expect(delta('ecp_attempts_closed_total', { action_type: 'payments.refund', status: 'DENIED' })).toBe(1);
    expect(delta('ecp_decision_latency_seconds_count', { action_type: 'payments.refund', outcome: 'approved' })).toBe(1);
    expect(delta('ecp_decision_refusals_total', { code: refused.code! })).toBe(1);
    expect(delta('ecp_executor_failures_total', { action_type: 'payments.refund', type: 'Error' })).toBe(1);
    expect(sample(after, 'ecp_pending_attempts', { group: 'finance' })).toBe(0);
    // The Temporal SDK's own runtime metrics are served on the same endpoint (bridged from its Prometheus exporter).
    expect(after).toMatch(/^temporal_workflow_task_\w+/m);
    expect(after).toMatch(/^nodejs_heap_size_used_bytes /m);
    // The archiver seals the closed attempts within a few passes; the lag reads 0 once it has caught up.
    const archived = await until('the archiver to seal them', async () => {
      const text = await scrape();
      return sample(text, 'ecp_archive_sealed_total') >= 4 ? text : undefined;
    });
    expect(archived).toMatch(/^ecp_archive_lag_seconds \d/m);

    // Structured logs: one JSON line per closed attempt, with its attempt ID, agent and action type.
    const lines = workerOutput
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const closedLine = lines.find((l) => l.attemptId === large.attemptId && l.status === 'SUCCEEDED');
    expect(closedLine).toMatchObject({ agent: 'refund-bot', actionType: 'payments.refund', decision: 'approved', name: 'ecp' });
    expect(lines.find((l) => l.attemptId === flaky.attemptId && l.msg === 'executor failed')).toMatchObject({ failureType: 'Error' });
  });
});

describe('traces', () => {
  it('one trace runs from the client propose through the workflow and activities to the executor HTTP call and its traceparent', async () => {
    const { attemptId } = await ecp.propose(refund(200, 'order-1002'));
    await waitForStatus(ecp, attemptId, 'SUCCEEDED', 60_000);
    const propose = clientSpans.getFinishedSpans().find((s) => s.name === 'ecp.propose' && s.attributes['ecp.attempt_id'] === attemptId);
    expect(propose).toBeDefined();
    const traceId = propose!.spanContext().traceId;
    expect(
      clientSpans
        .getFinishedSpans()
        .filter((s) => s.spanContext().traceId === traceId)
        .map((s) => s.name),
    ).toContain(`StartWorkflow:${WORKFLOW_TYPE}`);
    const names = await until('the worker spans of this trace', async () => {
      const inTrace = receivedSpans.filter((s) => s.traceId === traceId).map((s) => s.name);
      return inTrace.includes('HTTP POST') &&
        inTrace.includes('RunActivity:executeAction') &&
        inTrace.includes(`RunWorkflow:${WORKFLOW_TYPE}`)
        ? inTrace
        : undefined;
    });
    expect(names).toEqual(
      expect.arrayContaining([
        `RunWorkflow:${WORKFLOW_TYPE}`,
        'StartActivity:evaluateAttempt',
        'StartActivity:executeAction',
        'RunActivity:executeAction',
        'HTTP POST',
      ]),
    );
    // The target saw the executor's request carry this trace's context.
    const call = targetRequests.find((r) => r.method === 'POST' && r.headers['x-ecp-attempt'] === attemptId);
    expect(call?.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-0[01]$`));
  });

  it('an attempt started without a trace context runs no OpenTelemetry in its workflow; its activities are still traced', async () => {
    // A client without the tracing interceptors: the start carries no trace context (workflows/interceptors.ts).
    const plain = new EcpClient(
      new Client({ connection: plane.env.connection, namespace: 'default' }),
      plane.runtime.config,
      new ListingSealVerifier(plane.planeKey),
    );
    const { attemptId } = await plain.propose(refund(210, 'order-1002'));
    await waitForStatus(plain, attemptId, 'SUCCEEDED', 60_000);
    const call = targetRequests.find((r) => r.method === 'POST' && r.headers['x-ecp-attempt'] === attemptId);
    const traceId = /^00-([0-9a-f]{32})-/.exec(String(call?.headers.traceparent))?.[1];
    expect(traceId).toBeDefined();
    const inTrace = () => receivedSpans.filter((s) => s.traceId === traceId).map((s) => s.name);
    await until('the activity spans of the executor call', async () =>
      inTrace().includes('HTTP POST') && inTrace().includes('RunActivity:executeAction') ? true : undefined,
    );
    // Workflow spans are exported after the workflow task that ends them: give them many export intervals to arrive.
    await new Promise((r) => setTimeout(r, 3_000));
    const names = inTrace();
    expect(names).toContain('RunActivity:executeAction');
    expect(names).not.toContain(`RunWorkflow:${WORKFLOW_TYPE}`);
    expect(names).not.toContain('StartActivity:executeAction');
  });
});
