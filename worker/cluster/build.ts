/**
 * The Temporal server and its schema tool, built from the Go module proxy once per version into a cache outside the
 * repository (`~/.cache/ecp/temporal-<version>/`, or ECP_CLUSTER_CACHE), with the module's PostgreSQL schemas and
 * development config copied next to them, so a run needs neither the Go module cache nor a checkout of Temporal.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, constants, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { EcpError } from '../../common';
import { findOnPath } from '../temporalCli';
import { CLUSTER } from './settings';

/** What a cluster run needs from the build: two binaries, the schema folders, the starting config. */
export interface TemporalServerBuild {
  dir: string;
  server: string;
  sqlTool: string;
  /** `schema/postgresql/v12/{temporal,visibility}/versioned` of the module. */
  schema: { temporal: string; visibility: string };
  /** The module's `config/development-postgres12.yaml`. */
  baseConfig: string;
}

const MODULE = 'go.temporal.io/server';

/** Where the build for `version` lives (it may not exist yet). */
export function serverBuildDir(env: NodeJS.ProcessEnv = process.env, version: string = CLUSTER.temporalServerVersion): string {
  const root = env.ECP_CLUSTER_CACHE
    ? resolve(env.ECP_CLUSTER_CACHE)
    : join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'ecp');
  return join(root, `temporal-${version}`);
}

function layout(dir: string): TemporalServerBuild {
  return {
    dir,
    server: join(dir, 'bin', 'server'),
    sqlTool: join(dir, 'bin', 'sql'),
    schema: {
      temporal: join(dir, 'schema', 'postgresql', 'v12', 'temporal', 'versioned'),
      visibility: join(dir, 'schema', 'postgresql', 'v12', 'visibility', 'versioned'),
    },
    baseConfig: join(dir, 'config', 'development-postgres12.yaml'),
  };
}

function complete(build: TemporalServerBuild): boolean {
  try {
    accessSync(build.server, constants.X_OK);
    accessSync(build.sqlTool, constants.X_OK);
    return existsSync(build.schema.temporal) && existsSync(build.schema.visibility) && existsSync(build.baseConfig);
  } catch {
    return false;
  }
}

/** The cached build, or null when it is not there (nothing is built). */
export function findTemporalServer(env: NodeJS.ProcessEnv = process.env): TemporalServerBuild | null {
  const build = layout(serverBuildDir(env));
  return complete(build) ? build : null;
}

/**
 * The cached build, or else builds it: `go install` of the server and the `sql` tool at CLUSTER.temporalServerVersion
 * (Go toolchain CLUSTER.goToolchain, fetched by `go` itself when the installed one is older; ≈5 min on 2 cores, cold),
 * into a private folder renamed into place, so two processes building at once never leave a half-written copy.
 * Fails with what to install when `go` is missing. Idempotent: a complete build is reused as is.
 */
export function ensureTemporalServer(options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): TemporalServerBuild {
  const env = options.env ?? process.env;
  const found = findTemporalServer(env);
  if (found) return found;
  const final = serverBuildDir(env);
  const go = findOnPath('go', env);
  if (!go)
    throw new EcpError(
      'connection',
      `the Temporal server ${CLUSTER.temporalServerVersion} is not built (${final}) and there is no \`go\` on PATH to build it. ` +
        'Install Go 1.21 or newer (https://go.dev/dl/; it fetches the exact toolchain itself) and run again.',
    );
  const staging = `${final}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'bin'), { recursive: true });
  const version = `v${CLUSTER.temporalServerVersion}`;
  options.log?.(`building the Temporal server ${version} and its schema tool with Go into ${final} (once; ≈5 min on 2 cores) …`);
  const goEnv = { ...env, GOTOOLCHAIN: CLUSTER.goToolchain, GOBIN: join(staging, 'bin'), GOFLAGS: '-buildvcs=false' };
  try {
    execFileSync(go, ['install', `${MODULE}/cmd/server@${version}`, `${MODULE}/cmd/tools/sql@${version}`], {
      env: goEnv,
      stdio: ['ignore', 'ignore', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const moduleDir = join(execFileSync(go, ['env', 'GOMODCACHE'], { env: goEnv, encoding: 'utf8' }).trim(), `${MODULE}@${version}`);
    cpSync(join(moduleDir, 'schema', 'postgresql'), join(staging, 'schema', 'postgresql'), { recursive: true });
    cpSync(join(moduleDir, 'config', 'development-postgres12.yaml'), join(staging, 'config', 'development-postgres12.yaml'));
    // The module cache is read-only; the copies must stay removable by whoever runs this.
    makeWritable(join(staging, 'schema'));
    makeWritable(join(staging, 'config'));
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(-15).join('\n') ?? '';
    throw new EcpError('connection', `could not build the Temporal server ${version}: ${(err as Error).message}\n${stderr}`);
  }
  try {
    renameSync(staging, final);
  } catch (err) {
    // Another process finished first: keep its copy.
    rmSync(staging, { recursive: true, force: true, maxRetries: 3 });
    if (!complete(layout(final))) throw err;
  }
  const build = layout(final);
  if (!complete(build)) throw new EcpError('connection', `the Temporal server build in ${final} is incomplete; delete it and run again`);
  return build;
}

function makeWritable(path: string): void {
  chmodSync(path, 0o755);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) makeWritable(child);
    else chmodSync(child, 0o644);
  }
}
