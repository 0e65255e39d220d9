// Node-side: how the workflow code in this folder is bundled for Temporal's sandbox and identified. Nothing in the
// bundle imports this file (it needs Node and @temporalio/worker); the worker, replay and audit tools do.
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resource } from '@opentelemetry/resources';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks } from '@temporalio/worker';
import { envSwitchOn } from '../common/envSwitch';
import type { EcpTelemetrySinks } from '../common/telemetry';
import { bundleWithKeptOutput, type BundleOptions, type WebpackConfig, type WorkflowBundle } from './bundleOutputs';

export type { WebpackConfig };

const SOURCE_MAP_MARKER = '\n//# sourceMappingURL=';

/**
 * Identity of bundled workflow code: SHA-256 of the webpack bundle without its inline source map (the map embeds
 * where the bundle is loaded from; the code itself holds no paths), so the same ECP release gives the same digest on
 * every machine.
 */
export function workflowCodeDigest(bundle: { code: string }): string {
  const end = bundle.code.lastIndexOf(SOURCE_MAP_MARKER);
  const code = end === -1 ? bundle.code : bundle.code.slice(0, end);
  return `sha256:${createHash('sha256').update(code).digest('hex')}`;
}

/**
 * The worker build ID the plane runs with, `ecp@<version>+<workflow code digest hex>`. Temporal records it in every
 * workflow task event, so each history names the exact workflow code that produced it (evidence packs bind to it).
 */
export function planeBuildId(bundle: { code: string }): string {
  return `ecp@${packageVersion()}+${workflowCodeDigest(bundle).slice('sha256:'.length)}`;
}

/** The workflow bundle's entry point (workflows/index.ts). */
export const WORKFLOWS_PATH = join(dirname(fileURLToPath(import.meta.url)), 'index.ts');

let cachedBundle: Promise<WorkflowBundle> | undefined;
const WORKFLOWS_DIR = dirname(fileURLToPath(import.meta.url));
const PACKAGE_ROOT = join(WORKFLOWS_DIR, '..');

/** Where bundles keep webpack's persistent cache: the project's own cache, gone with node_modules. */
export const BUNDLE_CACHE_DIR = join(PACKAGE_ROOT, 'node_modules', '.cache', 'ecp', 'webpack');

/**
 * webpack's persistent cache for one kind of bundle (`name`), in `cacheDirectory` (by default
 * {@link BUNDLE_CACHE_DIR}): a process that bundles again (`npm start`, `ecp audit verify`, each test process) reuses
 * the modules an earlier one transpiled, ≈ 2.7 s of CPU instead of ≈ 9. webpack reuses an entry only after checking
 * every input file and package version it came from (and, as build dependencies, this file and the SDK's bundler), so
 * the bundle is byte for byte what a cold build gives: the same code digest. `ECP_BUNDLE_CACHE=0` turns it off; so
 * does a cache directory that cannot be made or written (a read-only install), silently, since bundling works the same
 * without it. Any other value is refused.
 */
export function bundleCache(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  cacheDirectory = BUNDLE_CACHE_DIR,
): Pick<WebpackConfig, 'cache' | 'snapshot'> {
  if (!envSwitchOn(env, 'ECP_BUNDLE_CACHE') || !writableDir(cacheDirectory)) return { cache: false };
  const require = createRequire(import.meta.url);
  // Files are compared by content, not by time: an edit within the same clock tick still counts.
  const byContent = { hash: true, timestamp: false };
  return {
    cache: {
      type: 'filesystem',
      cacheDirectory,
      name,
      version: `${packageVersion()}+node${process.versions.node}`,
      buildDependencies: { ecp: [fileURLToPath(import.meta.url), require.resolve('@temporalio/worker')] },
    },
    snapshot: { module: byContent, resolve: byContent, buildDependencies: byContent, resolveBuildDependencies: byContent },
  };
}

/** Where finished bundles are kept between processes (workflows/bundleOutputs.ts), beside webpack's cache. */
export const KEPT_BUNDLES_DIR = join(PACKAGE_ROOT, 'node_modules', '.cache', 'ecp', 'bundles');

/**
 * The folder finished bundles are kept in and reused from, or undefined: off with `ECP_BUNDLE_CACHE=0` (any value
 * but 0 or 1 is refused) and where the folder cannot be made or written, like webpack's cache ({@link bundleCache}).
 */
export function keptBundlesDir(env: NodeJS.ProcessEnv = process.env, dir = KEPT_BUNDLES_DIR): string | undefined {
  return envSwitchOn(env, 'ECP_BUNDLE_CACHE') && writableDir(dir) ? dir : undefined;
}

/**
 * What a kept bundle depends on besides the files webpack reads (workflows/bundleOutputs.ts checks those): the bundle
 * options that are data, where the package is (the inline source map names absolute paths), the Node, ECP, SDK,
 * webpack and loader versions, the SDK's bundler, and the code of `configFiles`, the modules whose webpack configuration
 * hook shapes the bundle (this file's, and the caller's). A change to any of them builds anew.
 */
export function bundleKey(options: BundleOptions, configFiles: string[]): string {
  const worker = createRequire(import.meta.url).resolve('@temporalio/worker');
  const fromWorker = createRequire(worker);
  const contentOf = (resolve: () => string) => {
    try {
      return createHash('sha256').update(readFileSync(resolve())).digest('hex');
    } catch {
      return 'unresolved';
    }
  };
  const tools = {
    bundler: contentOf(() => join(dirname(worker), 'workflow', 'bundler.js')),
    ...Object.fromEntries(
      ['@temporalio/worker', 'webpack', 'swc-loader', 'source-map-loader'].map((pkg) => [
        pkg,
        contentOf(() => fromWorker.resolve(`${pkg}/package.json`)),
      ]),
    ),
    swc: contentOf(() => createRequire(fromWorker.resolve('swc-loader')).resolve('@swc/core/package.json')),
  };
  const { workflowsPath, workflowInterceptorModules, preloadModules, payloadConverterPath, failureConverterPath, ignoreModules } = options;
  const data = { workflowsPath, workflowInterceptorModules, preloadModules, payloadConverterPath, failureConverterPath, ignoreModules };
  const config = [fileURLToPath(import.meta.url), ...configFiles].map((file) => [file, contentOf(() => file)]);
  const key = { data, root: PACKAGE_ROOT, node: process.versions.node, ecp: packageVersion(), tools, config };
  return createHash('sha256').update(JSON.stringify(key)).digest('hex');
}

/**
 * `bundleWorkflowCode(options)` for a bundle kind (`name`): the bundle an earlier process kept is reused when nothing
 * it was built from changed, else webpack builds it (with its own cache) and it is kept. The code is byte for byte
 * what a cold build gives. `configFiles`: see {@link bundleKey}.
 */
export async function keptWorkflowBundle(name: string, options: BundleOptions, configFiles: string[] = []): Promise<WorkflowBundle> {
  const dir = keptBundlesDir();
  const key = dir === undefined ? '' : bundleKey(options, configFiles);
  return (await bundleWithKeptOutput(options, { dir, name, key })).bundle;
}

/**
 * webpack's scope hoisting (module concatenation) for a workflow bundle. The SDK bundles in development mode, which
 * leaves every ES module a function of its own, with a getter per export. With reusable V8 contexts every new or
 * replayed workflow evaluates the bundle's modules afresh, so each workflow paid for building those module objects and
 * getters, and each call across modules went through one. Concatenated, a group of ES modules is one scope (modules
 * reached by `require()`, like OpenTelemetry's, stay lazy: webpack wraps them as memoised accessors), and the code
 * does the same: every saved history replays to the same record. Measured on evidence-pack verification, which
 * replays one workflow per pack (docs/performance.md).
 */
export function scopeHoisting(config: WebpackConfig): Pick<WebpackConfig, 'optimization'> {
  return { optimization: { ...config.optimization, concatenateModules: true } };
}

function writableDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
/**
 * Modules every workflow of a worker shares (the SDK's `preloadModules`): stateless libraries, evaluated once per
 * worker instead of once per workflow. See workflows/sharedCrypto.ts and workflows/sharedZod.ts; common/lazySchema.ts
 * keeps the plane's own schemas, so each is built (and compiled by zod) once per worker rather than per workflow.
 */
export function sharedWorkflowModules(): string[] {
  const require = createRequire(import.meta.url);
  return [
    require.resolve(join(WORKFLOWS_DIR, 'sharedCrypto.ts')),
    require.resolve(join(WORKFLOWS_DIR, 'sharedZod.ts')),
    require.resolve(join(WORKFLOWS_DIR, '..', 'common', 'lazySchema.ts')),
    'safe-stable-stringify',
    '@noble/ed25519',
    '@noble/hashes/sha2.js',
    '@noble/hashes/utils.js',
  ];
}

/**
 * The failure converter inside the sandbox: failures the workflow raises (an update refused, a failed run) carry
 * their message and stack as an encoded payload the codec encrypts. The same file codec/dataConverter.ts names; a
 * path, not an import, so no workflow code depends on it at type level.
 */
export const WORKFLOW_FAILURE_CONVERTER_PATH = join(WORKFLOWS_DIR, '..', 'common', 'failureConverter.cjs');

/**
 * The plane's workflow interceptor module (workflows/interceptors.ts: OpenTelemetry's and ECP's telemetry), always in
 * the bundle: tracing and metrics are switched on the worker (sinks, span processor), never by changing workflow code.
 */
export function workflowInterceptorModules(): string[] {
  return [createRequire(import.meta.url).resolve(join(WORKFLOWS_DIR, 'interceptors.ts'))];
}

/**
 * Sinks for the interceptor module that discard everything: for replay workers (which call no sink of it, but look
 * each one up) and workers without telemetry. A history recorded by a plane worker replays only with the interceptor
 * module in the bundle (OpenTelemetry's records SDK flags that change how updates are handled), so every replay of
 * plane histories bundles it and injects these.
 */
export function idleTelemetrySinks(): InjectedSinks<EcpTelemetrySinks> & ReturnType<typeof otelSink> {
  return { ...otelSink(), ecpTelemetry: { attemptStarted: { fn() {} }, attemptClosed: { fn() {} } } };
}
const otelSink = () => ({ exporter: makeWorkflowExporter(new NoopSpanProcessor(), new Resource({})) });

/**
 * Bundles the workflow code once per process (webpack is slow; every worker of the process shares it), reusing the
 * bundle an earlier process kept ({@link keptWorkflowBundle}) or building it with webpack's persistent cache
 * ({@link bundleCache}).
 */
export function prebundleWorkflows(): Promise<WorkflowBundle> {
  const require = createRequire(import.meta.url);
  cachedBundle ??= keptWorkflowBundle('plane', {
    workflowsPath: require.resolve(WORKFLOWS_PATH),
    workflowInterceptorModules: workflowInterceptorModules(),
    preloadModules: sharedWorkflowModules(),
    failureConverterPath: WORKFLOW_FAILURE_CONVERTER_PATH,
    logger: quietLogger,
    // webpack names modules relative to its context (default: the process's cwd); pin it to the package root so the
    // bundle — and so the code identity in build IDs and evidence packs — does not depend on where ecp was started.
    webpackConfigHook: (config) => ({ ...config, context: PACKAGE_ROOT, ...scopeHoisting(config), ...bundleCache('plane') }),
  });
  return cachedBundle;
}

/**
 * Makes this process's {@link prebundleWorkflows} return `bundle` instead of bundling: for a process that is handed
 * the bundle another process built with that same function (a test run builds it once for all its test processes).
 */
export function usePrebuiltWorkflowBundle(bundle: WorkflowBundle): void {
  cachedBundle = Promise.resolve(bundle);
}

/** webpack's progress stays quiet; its warnings and errors still show. */
const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    console.warn(message);
  },
  error(message: string) {
    console.error(message);
  },
};
