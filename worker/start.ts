/**
 * `npm start`: the whole plane on one machine — embedded Temporal dev server (SQLite in .ecp-data, Web UI), the
 * demo target service, and the worker with the demo configuration. With ECP_CONFIG set, your configuration runs
 * instead of the demo. Ctrl-C stops everything; pending attempts survive a restart.
 */
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerType } from '@hono/node-server';
import { EcpError } from '../common';
import { prepareDemo } from '../examples/demo/setup';
import { createDemoTarget, describeNotification, serveDemoTarget, type ReceivedNotification } from '../examples/demo/target';
import { dataDirFromEnv } from '../config/dataDir';
import { embeddedServerPorts } from './devServer';
import { assertPortsFree, isPortBusy, portFromEnv, type PlannedPort } from '../config/ports';
import { workflowStackTracesFromEnv } from './workflowThreads';
import { runPlane, type RunningPlane } from './plane-process';
import { prepareReplayInBackground, type ReplayPreparation } from './replayPreparation';
import { tracingEnabledFromEnv } from '../telemetry/tracing';
import { consolePortFromEnv, DEFAULT_CONSOLE_PORT, startConsole, type RunningConsole } from '../api/server';
import { createLogger, type Logger } from '../telemetry/logger';
import { DEFAULT_METRICS_PORT, metricsSettingsFromEnv } from '../telemetry/server';

const dataDir = dataDirFromEnv();
// `[ecp] …` lines at a terminal, as always; JSON lines when piped or collected (ECP_LOG_FORMAT overrides).
let logger: Logger | undefined;
const log = (line: string) => (logger ? logger.info(line) : console.log(`[ecp] ${line}`));
let target: ServerType | undefined;
let plane: RunningPlane | undefined;
let webConsole: RunningConsole | undefined;
let replayPreparation: ReplayPreparation | undefined;
let demoSecrets: Record<string, { secret: string }> | undefined;
let demoMcp: { agent: string; token: string; filesDir: string } | undefined;

async function main(): Promise<void> {
  let configPath = process.env.ECP_CONFIG;
  const temporalPort = portFromEnv('ECP_TEMPORAL_PORT', 7233);
  const targetPort = portFromEnv('DEMO_TARGET_PORT', 4100);
  const consolePort = consolePortFromEnv();
  workflowStackTracesFromEnv(); // a bad value is refused before anything starts, not when the worker is created
  logger = createLogger('ecp');
  let metrics = metricsSettingsFromEnv(process.env, DEFAULT_METRICS_PORT);
  // Every port first, all busy ones named in one message, and nothing written (demo data, keys) when refusing.
  const planned: PlannedPort[] = [
    ...(process.env.TEMPORAL_ADDRESS ? [] : embeddedServerPorts(temporalPort)),
    ...(configPath
      ? []
      : [{ port: targetPort, what: 'demo target service', hint: 'Stop what uses it, or choose another port with DEMO_TARGET_PORT.' }]),
    ...(consolePort === null
      ? []
      : [
          {
            port: consolePort,
            what: 'web console',
            hint: 'Stop what uses it, or choose another port with ECP_CONSOLE_PORT (0 or off disables it).',
          },
        ]),
    ...(metrics?.explicit
      ? [
          {
            port: metrics.port,
            what: 'metrics and health',
            hint: 'Stop what uses it, or choose another port with ECP_METRICS_PORT (0 or off disables it).',
          },
        ]
      : []),
  ];
  await assertPortsFree(planned);
  if (metrics && !metrics.explicit && (await isPortBusy(metrics.port))) {
    // The default port is a convenience: taken (another plane on this machine?), the plane runs without it.
    log(`metrics and health endpoint off: port ${metrics.port} is in use (set ECP_METRICS_PORT to choose one)`);
    metrics = null;
  }
  if (!configPath) {
    const demo = prepareDemo(dataDir, { consoleUrl: `http://localhost:${consolePort ?? DEFAULT_CONSOLE_PORT}` });
    configPath = demo.configPath;
    demoSecrets = demo.consoleSecrets;
    demoMcp = demo.mcp;
    process.env.DEMO_TARGET_TOKEN = demo.targetToken;
    process.env.DEMO_WEBHOOK_SECRET = demo.webhookSecret;
    const onNotification = (n: ReceivedNotification) => log(`demo target: notification ${describeNotification(n)}`);
    target = await serveDemoTarget(createDemoTarget(demo.targetToken, { webhookSecret: demo.webhookSecret, onNotification }), targetPort);
    // The port it really got (DEMO_TARGET_PORT=0 picks a free one), so the demo's action types call the right one.
    process.env.DEMO_TARGET_URL ??= `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    log(`demo target service on ${process.env.DEMO_TARGET_URL} (orders, deploys, notifications)`);
  }
  plane = await runPlane({ configPath, dataDir, log, logger, metrics, embedded: { port: temporalPort } });
  if (consolePort !== null) {
    const running = plane;
    webConsole = await startConsole({
      port: consolePort,
      address: running.address,
      namespace: running.namespace,
      config: () => running.runtime.config,
      dataDir,
      log,
      // The plane process traces when the environment asks for it (runPlane started it): so do the attempts it starts.
      tracing: tracingEnabledFromEnv(),
    });
    log(`web console on ${webConsole.url}`);
  }
  const stop = () => {
    log('stopping …');
    void shutdown().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  printNextSteps(plane, configPath);
  // The first `ecp audit verify` on this machine (docs/auditing.md) then finds its bundle built, instead of building it.
  replayPreparation = prepareReplayInBackground(log);
  await plane.done;
}

async function shutdown(): Promise<void> {
  replayPreparation?.stop();
  await webConsole?.close();
  await plane?.shutdown();
  target?.close();
}

function consoleSteps(): string {
  if (!webConsole) return '';
  const who = demoSecrets?.alice
    ? `\n     sign in as alice, secret ${demoSecrets.alice.secret} (every demo human's: ${dataDir}/demo/console-secrets.json);` +
      `\n     to approve, load her key file ${dataDir}/keys/alice.key — it signs in the browser and never leaves it`
    : '';
  return `  Or decide in the web console: ${webConsole.url}${who}\n`;
}

/** How to connect an MCP client to the demo gateway: over HTTP with the demo agent's token, or on stdio. */
function mcpSteps(running: RunningPlane): string {
  if (!demoMcp) return '';
  const http = webConsole
    ? `  Over HTTP (Streamable HTTP at ${webConsole.url}/mcp, token in ${dataDir}/demo/mcp-token), list the tools and read a file:
       npx -y @modelcontextprotocol/inspector@2.12.0 --cli ${webConsole.url}/mcp --transport http \\
         --header "Authorization: Bearer ${demoMcp.token}" --method tools/list
       npx -y @modelcontextprotocol/inspector@2.12.0 --cli ${webConsole.url}/mcp --transport http \\
         --header "Authorization: Bearer ${demoMcp.token}" --method tools/call \\
         --tool-name files__read_text_file --tool-arg path=${join(demoMcp.filesDir, 'README.md')}
`
    : '';
  const stdio = {
    mcpServers: {
      ecp: {
        // Absolute paths: desktop clients start servers from a directory of their own choosing.
        command: process.execPath,
        args: [fileURLToPath(new URL('../bin/ecp.mjs', import.meta.url)), 'mcp', 'serve', '--agent', demoMcp.agent],
        env: { ECP_DATA_DIR: dataDir, TEMPORAL_ADDRESS: running.address },
      },
    },
  };
  return `
Govern an MCP agent: agent ${demoMcp.agent}, tools files__* (the folder ${demoMcp.filesDir}) and memory__*;
reads run at once, writes wait for sre (approve with: npx ecp approve <attempt-id> --as bob), move_file and deletes are denied.
${http}  A desktop MCP client (stdio) — add to its MCP servers config (e.g. claude_desktop_config.json):
${JSON.stringify(stdio, null, 2).replace(/^/gm, '    ')}
`;
}

function printNextSteps(running: RunningPlane, configPath: string): void {
  const ui = running.uiUrl ? `\n  Temporal Web UI: ${running.uiUrl}` : '';
  const address =
    running.address.replace('127.0.0.1', 'localhost') === 'localhost:7233'
      ? ''
      : `\n  First point the CLI at this plane: export TEMPORAL_ADDRESS=${running.address}`;
  console.log(`
ECP is running — Temporal at ${running.address}, task queue "ecp", config ${configPath}${ui}

Try this next, in another terminal in this folder:${address}
  1. An agent proposes a refund large enough to need a human:
       npx ecp propose --agent refund-bot --action payments.refund --resource order-1001 \\
         --params '{"orderId":"order-1001","amount":7500,"reason":"damaged in transit"}' \\
         --justification "Customer sent photos of the damage"
  2. See what waits for a decision:      npx ecp pending --as alice
  3. Look at the whole decision context: npx ecp show <attempt-id>
  4. Approve it, signed with Alice's key: npx ecp approve <attempt-id> --as alice
  5. Watch it run:                       npx ecp show <attempt-id>
  And see a refusal: carol owns refund-bot, so \`npx ecp approve <attempt-id> --as carol\` is refused.
${consoleSteps()}${mcpSteps(running)}Ctrl-C stops everything; pending attempts survive a restart.
`);
}

main().catch(async (err) => {
  console.error(err instanceof EcpError ? `[ecp] ${err.message}` : err);
  await shutdown().catch(() => {});
  process.exit(1);
});
