import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel, type Worker } from '@temporalio/worker';
import { EcpError } from '../common';
import { PlaneRuntime, type PlaneExtensions } from '../config/runtime';
import { CLIENT_CHANNEL_ARGS, temporalTargetFromEnv } from '../config/temporalConnection';
import { dataConverterWith, payloadCodecFor, resolvePayloadKeyring } from '../codec/dataConverter';
import { startPlaneCodecServer } from '../codec/planeCodecServer';
import { Archive } from '../audit/archive/archive';
import { archiveSettingsFromEnv, ensureArchiver, type ArchiveSettings } from '../audit/archive/archiverControl';
import { policyBundleStoreDir, storePolicyBundle } from '../audit/bundleStore';
import { directoryStoreDir, storeCodeIdentity, storeDirectoryVersion } from '../audit/trustStore';
import type { PlaneConfig } from '../config/load';
import type { PolicyBundle } from '../policy/bundle';
import { startEmbeddedServer, type EmbeddedServer } from './devServer';
import { createNotificationWorker, createPlaneWorker } from './plane';
import { ensureSearchAttributes } from './searchAttributes';
import { missingServerLimits } from './serverLimits';
import { loadOrCreatePlaneKey } from '../client/listingSeal';
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
  installRuntimeLogger();
  if (!process.env.TEMPORAL_ADDRESS && !options.embedded) {
    throw new EcpError(
      'connection',
      'no Temporal server: set TEMPORAL_ADDRESS=host:port, or ask for the embedded dev server (--embedded or ECP_EMBEDDED_SERVER=1)',
      'TEMPORAL_ADDRESS',
    );
  }
  const runtime = new PlaneRuntime(options.configPath, options.extensions);
  rememberPolicyBundle(options.dataDir, runtime.config.bundle, log);
  rememberDirectory(options.dataDir, runtime.config, log);
  // Payload keys are part of the configuration: an unresolvable key stops the plane before it starts (fail closed).
  const payloadCodec = payloadCodecFor({ config: runtime.config });
  if (payloadCodec.activeKeyId)
    log(`payload encryption on: active key "${payloadCodec.activeKeyId}" (configured: ${payloadCodec.keyIds.join(', ')})`);
  // The key that seals attempts for listing: readers drop every row without a valid seal (client/listingSeal.ts).
  const planeKey = loadOrCreatePlaneKey(options.dataDir);
  const archiveSettings = options.archive ?? archiveSettingsFromEnv(options.dataDir);
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
  const archive = archiveSettings.enabled ? Archive.local(archiveSettings.dir) : null;
  const worker = await createPlaneWorker({
    connection: nativeConnection,
    namespace: target.namespace,
    runtime,
    payloadCodec,
    planeKey,
    archive: archive ? { archive, dataDir: options.dataDir } : null,
  });
  if (worker.options.buildId) rememberCodeIdentity(options.dataDir, worker.options.buildId, log);
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
      rememberPolicyBundle(options.dataDir, config.bundle, log);
      rememberDirectory(options.dataDir, config, log);
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
    done,
    shutdown() {
      stopping ??= (async () => {
        process.off('SIGHUP', onHup);
        if (worker.getState() === 'RUNNING') worker.shutdown();
        if (notificationWorker?.getState() === 'RUNNING') notificationWorker.shutdown();
        await done.catch(() => {});
        await codecServer?.close();
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
function rememberPolicyBundle(dataDir: string, bundle: PolicyBundle, log: (line: string) => void): void {
  try {
    storePolicyBundle(dataDir, bundle);
  } catch (err) {
    log(
      `warning: could not keep policy bundle ${bundle.version} in ${policyBundleStoreDir(dataDir)} (${(err as Error).message}); evidence packs of its attempts need the policy files then`,
    );
  }
}

/**
 * Keeps every directory version the plane runs with: `ecp audit verify` trusts a pack's pinned keys, groups and owners
 * only when they are in a directory version the plane kept (the pack's own copy proves nothing against a forger).
 */
function rememberDirectory(dataDir: string, config: PlaneConfig, log: (line: string) => void): void {
  try {
    storeDirectoryVersion(dataDir, config.directory);
  } catch (err) {
    log(
      `warning: could not keep directory ${config.directoryVersion} in ${directoryStoreDir(dataDir)} (${(err as Error).message}); evidence packs of its attempts verify against it only while it is the configured one`,
    );
  }
}

/** Keeps the workflow code identity (build ID) the plane runs, the code trust root of `ecp audit verify`. */
function rememberCodeIdentity(dataDir: string, buildId: string, log: (line: string) => void): void {
  try {
    storeCodeIdentity(dataDir, buildId);
  } catch (err) {
    log(
      `warning: could not keep code identity ${buildId} in ${dataDir} (${(err as Error).message}); its packs verify only where the local workflow code is the same`,
    );
  }
}

let runtimeInstalled = false;
/** The SDK logs every worker state change at INFO; the plane's own lines say what matters. ECP_LOG_LEVEL overrides. */
function installRuntimeLogger(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger((process.env.ECP_LOG_LEVEL?.toUpperCase() as LogLevel | undefined) ?? 'WARN') });
  } catch {
    // Already installed by the embedding application: keep its logger.
  }
}
