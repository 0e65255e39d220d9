import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { EcpError } from '../common';
import { PlaneRuntime, type PlaneExtensions } from '../config/runtime';
import { CLIENT_CHANNEL_ARGS, temporalTargetFromEnv } from '../config/temporalConnection';
import { dataConverterWith, payloadCodecFor, resolvePayloadKeyring } from '../codec/dataConverter';
import { startPlaneCodecServer } from '../codec/planeCodecServer';
import { Archive } from '../audit/archive/archive';
import { archiveSettingsFromEnv, ensureArchiver, type ArchiveSettings } from '../audit/archive/archiverControl';
import { keepPolicyBundle } from '../audit/bundleStore';
import { keepCodeIdentity, keepDirectoryVersion } from '../audit/trustStore';
import { openPlaneStores } from '../audit/store/open';
import type { KeptStore } from '../audit/store/kept';
import type { PlaneConfig } from '../config/load';
import type { PolicyBundle } from '../policy/bundle';
import { startEmbeddedServer, type EmbeddedServer } from './devServer';
import { createNotificationWorker, createPlaneWorker } from './plane';
import { ensureSearchAttributes } from './searchAttributes';
import { missingServerLimits } from './serverLimits';
import { loadOrCreatePlaneKey } from '../client/listingSeal';
import { buildListQuery } from '../client/listQuery';
import type { Logger } from '../telemetry/logger';
import { PlaneMetrics } from '../telemetry/metrics';
import { startMetricsServer, type MetricsServer } from '../telemetry/server';
import { startTracing } from '../telemetry/tracing';
import { freeLoopbackPort, installPlaneRuntime, scrapeCoreMetrics } from './runtimeTelemetry';
import { ensureGovernanceControls } from './governanceControls';

export interface RunPlaneOptions {
  configPath: string;
  dataDir: string;
  extensions?: PlaneExtensions;
  log?: (line: string) => void;
  /**
   * Run the embedded dev server when TEMPORAL_ADDRESS is not set, on these ports. Without it, TEMPORAL_ADDRESS is
   * required: a plane never starts a hidden dev server nobody asked for.
   */
  embedded?: { port?: number; uiPort?: number };
  /** Evidence archive and its archiver workflow; default from ECP_ARCHIVE / ECP_ARCHIVE_DIR (on, `<dataDir>/archive`). */
  archive?: ArchiveSettings;
  /**
   * The metrics and health endpoint (`/metrics`, `/healthz`, `/readyz`) on `host:port`; null/absent: none. With it the
   * Temporal SDK's own runtime metrics are served there too (docs/observability.md).
   */
  metrics?: { port: number; host: string } | null;
  /** Structured logs of attempts, executor runs and the Temporal SDK; absent: the SDK logs WARN to the console as before. */
  logger?: Logger;
}

export interface RunningPlane {
  address: string;
  namespace: string;
  embedded: boolean;
  uiUrl: string | null;
  /** The codec server's endpoint for the Web UI (`…/codec`), or null when not served. */
  codecUrl: string | null;
  runtime: PlaneRuntime;
  worker: Worker;
  /** The metrics and health endpoint's base URL, or null when not served. */
  metricsUrl: string | null;
  /** Whether this plane is ready: connected to Temporal and its worker running (null when ready, else why not). */
  ready(): Promise<string | null>;
  /** Resolves when the worker stops (or rejects if it crashes). */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Brings up one plane: validates configuration first (fail closed — nothing starts on a bad policy or config),
 * connects to TEMPORAL_ADDRESS or starts the embedded dev server, registers search attributes, runs the worker.
 * SIGHUP reloads configuration; a reload that fails validation keeps the running one.
 */
export async function runPlane(options: RunPlaneOptions): Promise<RunningPlane> {
  const log = options.log ?? ((line: string) => console.log(line));
  // The SDK's own metrics need the runtime's Prometheus exporter, which exists only if installed before first use.
  const coreMetricsPort = options.metrics ? await freeLoopbackPort() : null;
  const coreMetrics = installPlaneRuntime({ logger: options.logger, coreMetricsPort });
  if (!process.env.TEMPORAL_ADDRESS && !options.embedded) {
    throw new EcpError(
      'connection',
      'no Temporal server: set TEMPORAL_ADDRESS=host:port, or ask for the embedded dev server (--embedded or ECP_EMBEDDED_SERVER=1)',
      'TEMPORAL_ADDRESS',
    );
  }
  const runtime = new PlaneRuntime(options.configPath, options.extensions);
  const archiveSettings = options.archive ?? archiveSettingsFromEnv(options.dataDir);
  // The archive and kept versions: the data dir, or the store every worker shares (ECP_STORE_URL). A shared store
  // that cannot be reached stops the plane here (fail closed) rather than at its first seal.
  const stores = openPlaneStores({ dataDir: options.dataDir, archiveDir: archiveSettings.dir });
  await stores.ready();
  if (stores.kind !== 'local') log(`shared store: ${stores.location} (archive, policy bundles, directory versions, code identities)`);
  await rememberPolicyBundle(stores.kept, runtime.config.bundle, log);
  await rememberDirectory(stores.kept, runtime.config, log);
  // Payload keys are part of the configuration: an unresolvable key stops the plane before it starts (fail closed).
  const payloadCodec = payloadCodecFor({ config: runtime.config });
  if (payloadCodec.activeKeyId)
    log(`payload encryption on: active key "${payloadCodec.activeKeyId}" (configured: ${payloadCodec.keyIds.join(', ')})`);
  // The key that seals attempts for listing: readers drop every row without a valid seal (client/listingSeal.ts).
  const planeKey = loadOrCreatePlaneKey(options.dataDir);
  const target = temporalTargetFromEnv();
  const codecServer = await startPlaneCodecServer({ config: runtime.config, codec: payloadCodec, namespace: target.namespace, log });
  if (codecServer) log(`codec server for the Temporal Web UI: ${codecServer.url} (bearer token or ${codecServer.url}/login)`);
  let server: EmbeddedServer | undefined;
  let nativeConnection: NativeConnection;
  let address = target.address;
  if (process.env.TEMPORAL_ADDRESS) {
    try {
      nativeConnection = await NativeConnection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey });
    } catch (err) {
      throw new EcpError('connection', `cannot reach Temporal at ${target.address}: ${(err as Error).message}`);
    }
  } else {
    const port = options.embedded?.port ?? 7233;
    log(`starting the embedded Temporal dev server on 127.0.0.1:${port} (data in ${options.dataDir}) …`);
    server = await startEmbeddedServer({ dataDir: options.dataDir, port, uiPort: options.embedded?.uiPort ?? port + 1000, log });
    nativeConnection = server.nativeConnection;
    address = `127.0.0.1:${port}`;
  }
  const connection = server
    ? server.connection
    : await Connection.connect({ address: target.address, tls: target.tls, apiKey: target.apiKey, channelArgs: CLIENT_CHANNEL_ARGS });
  try {
    const added = await ensureSearchAttributes(connection, target.namespace);
    if (added.length > 0) log(`registered search attributes: ${added.join(', ')}`);
  } catch (err) {
    log(`warning: could not register search attributes (${(err as Error).message}); ask your Temporal operator to add them`);
  }
  await warnOnMissingServerLimits(new Client({ connection, namespace: target.namespace }), log);
  const archive = archiveSettings.enabled ? new Archive(stores.archive) : null;
  const tracing = startTracing({ serviceName: 'ecp-worker' });
  if (tracing.provider) log('tracing on: spans exported over OTLP (OTEL_EXPORTER_OTLP_* settings)');
  const visibility = new Client({ connection, namespace: target.namespace });
  const metrics = options.metrics
    ? new PlaneMetrics({
        groups: () => Object.keys(runtime.config.directory.groups),
        countPending: async (group) =>
          Number(
            (await visibility.workflow.count(buildListQuery({ status: 'AWAITING_DECISION', running: true, awaitingGroups: [group] })))
              .count,
          ),
      })
    : null;
  const worker = await createPlaneWorker({
    telemetry: { metrics, logger: options.logger ?? null, tracing },
    connection: nativeConnection,
    namespace: target.namespace,
    runtime,
    payloadCodec,
    planeKey,
    archive: archive ? { archive, dataDir: options.dataDir, kept: stores.kept } : null,
    dataDir: options.dataDir,
    kept: stores.kept,
    log,
  });
  if (worker.options.buildId) await rememberCodeIdentity(stores.kept, worker.options.buildId, log);
  const notificationWorker = runtime.config.notifications
    ? await createNotificationWorker({
        connection: nativeConnection,
        namespace: target.namespace,
        runtime,
        payloadCodec,
        planeKey,
        archive: null,
      })
    : null;
  const done = Promise.all([worker.run(), notificationWorker?.run()]).then(() => {});
  const ready = async (): Promise<string | null> => {
    if (worker.getState() !== 'RUNNING') return `worker ${worker.getState().toLowerCase()}`;
    try {
      await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
      return null;
    } catch (err) {
      return `Temporal at ${address} unreachable (${(err as Error).message})`;
    }
  };
  let metricsServer: MetricsServer | null = null;
  if (options.metrics && metrics) {
    try {
      metricsServer = await startMetricsServer({
        ...options.metrics,
        // ECP's metrics, then the SDK's (worker task slots, poll latencies, workflow/activity task counts …).
        metrics: async () => `${await metrics.text()}\n${coreMetrics ? await scrapeCoreMetrics(coreMetricsPort!) : ''}`,
        ready,
      });
      log(`metrics and health on ${metricsServer.url} (/metrics, /healthz, /readyz)`);
    } catch (err) {
      worker.shutdown();
      await done.catch(() => {});
      throw err;
    }
  }
  if (archive) {
    // The archiver is a singleton workflow: every plane asks for it, the first one starts it.
    try {
      const started = await ensureArchiver(
        new Client({ connection, namespace: target.namespace, dataConverter: dataConverterWith(payloadCodec) }),
        {
          intervalSeconds: archiveSettings.intervalSeconds,
        },
      );
      log(`evidence archive: ${archive.location} (archiver workflow ${started ? 'started' : 'already running'})`);
    } catch (err) {
      log(`warning: could not start the archiver workflow (${(err as Error).message}); closed attempts are not archived until it runs`);
    }
  } else log('evidence archive: off (ECP_ARCHIVE=off); closed attempts are not archived by this worker');
  await ensureGovernanceControls(
    new Client({ connection, namespace: target.namespace, dataConverter: dataConverterWith(payloadCodec) }),
    runtime.config,
    log,
  );
  const onHup = () => {
    try {
      const config = runtime.reload();
      void rememberPolicyBundle(stores.kept, config.bundle, log);
      void rememberDirectory(stores.kept, config, log);
      try {
        payloadCodec.setKeyring(resolvePayloadKeyring({ config }));
      } catch (err) {
        log(`payload keys not reloaded; keeping the running ones: ${(err as Error).message}`);
      }
      log(
        `configuration reloaded (policy bundle ${config.bundle.version.slice(0, 19)}…, directory ${config.directoryVersion.slice(0, 19)}…)`,
      );
    } catch (err) {
      log(`configuration reload refused; keeping the running one:\n${(err as Error).message}`);
    }
  };
  process.on('SIGHUP', onHup);
  let stopping: Promise<void> | undefined;
  return {
    address,
    namespace: target.namespace,
    embedded: Boolean(server),
    uiUrl: server ? `http://127.0.0.1:${options.embedded?.uiPort ?? (options.embedded?.port ?? 7233) + 1000}` : null,
    codecUrl: codecServer?.url ?? null,
    runtime,
    worker,
    metricsUrl: metricsServer?.url ?? null,
    ready,
    done,
    shutdown() {
      stopping ??= (async () => {
        process.off('SIGHUP', onHup);
        if (worker.getState() === 'RUNNING') worker.shutdown();
        if (notificationWorker?.getState() === 'RUNNING') notificationWorker.shutdown();
        await done.catch(() => {});
        await metricsServer?.close();
        await tracing.shutdown();
        await codecServer?.close();
        await stores.close();
        if (server) await server.teardown();
        else {
          await connection.close();
          await nativeConnection.close();
        }
      })();
      return stopping;
    },
  };
}

/** Says loudly when the server lets a caller fill an attempt's history (see docs/production.md, "Server limits"). */
async function warnOnMissingServerLimits(client: Client, log: (line: string) => void): Promise<void> {
  try {
    const missing = await missingServerLimits(client);
    if (missing.length > 0) {
      log(
        `warning: this Temporal server lacks ECP's record protection — a caller with signal access can fill an attempt's history: ${missing.join('; ')}. See docs/production.md ("Server limits").`,
      );
    }
  } catch (err) {
    log(`warning: could not check the server's payload and signal limits (${(err as Error).message})`);
  }
}

/** Keeps the text of every bundle version the plane runs with, so evidence packs can be exported after a change. */
async function rememberPolicyBundle(kept: KeptStore, bundle: PolicyBundle, log: (line: string) => void): Promise<void> {
  try {
    await keepPolicyBundle(kept, bundle);
  } catch (err) {
    log(
      `warning: could not keep policy bundle ${bundle.version} in ${kept.location} (${(err as Error).message}); evidence packs of its attempts need the policy files then`,
    );
  }
}

/**
 * Keeps every directory version the plane runs with: `ecp audit verify` trusts a pack's pinned keys, groups and owners
 * only when they are in a directory version the plane kept (the pack's own copy proves nothing against a forger).
 */
async function rememberDirectory(kept: KeptStore, config: PlaneConfig, log: (line: string) => void): Promise<void> {
  try {
    await keepDirectoryVersion(kept, config.directory);
  } catch (err) {
    log(
      `warning: could not keep directory ${config.directoryVersion} in ${kept.location} (${(err as Error).message}); evidence packs of its attempts verify against it only while it is the configured one`,
    );
  }
}

/** Keeps the workflow code identity (build ID) the plane runs, the code trust root of `ecp audit verify`. */
async function rememberCodeIdentity(kept: KeptStore, buildId: string, log: (line: string) => void): Promise<void> {
  try {
    await keepCodeIdentity(kept, buildId);
  } catch (err) {
    log(
      `warning: could not keep code identity ${buildId} in ${kept.location} (${(err as Error).message}); its packs verify only where the local workflow code is the same`,
    );
  }
}
