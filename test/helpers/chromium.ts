import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { findOnPath } from '../../worker/temporalCli';

/** Debian's package path; CHROMIUM_PATH overrides. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** What a person without root runs to get Chromium for the browser tests. */
export const HOW_TO_GET_CHROMIUM =
  'Chromium is needed for the browser tests. Install it and run again: sudo apt-get update && sudo apt-get install -y chromium ' +
  '(or point CHROMIUM_PATH=/path/to/chromium at any Chromium or Chrome).';

export interface ChromiumOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the package puts it (default /usr/bin/chromium). */
  defaultPath?: string;
  /** Whether this process may install system packages (root). */
  isRoot?: boolean;
  /** Runs a command to completion (throws on failure); tests replace it to see what would run. */
  run?: (file: string, args: string[]) => void;
  log?: (line: string) => void;
}

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Chromium for the browser tests, the way this machine allows: CHROMIUM_PATH, else /usr/bin/chromium (or `chromium`
 * on PATH), else — as root — `apt-get update && apt-get install -y chromium`; otherwise an error saying exactly what
 * to run.
 */
export function ensureChromium(options: ChromiumOptions = {}): string {
  const env = options.env ?? process.env;
  if (env.CHROMIUM_PATH) {
    if (!executable(env.CHROMIUM_PATH))
      throw new Error(`CHROMIUM_PATH=${env.CHROMIUM_PATH} is not an executable file. ${HOW_TO_GET_CHROMIUM}`);
    return env.CHROMIUM_PATH;
  }
  const defaultPath = options.defaultPath ?? DEFAULT_CHROMIUM;
  const found = () => (executable(defaultPath) ? defaultPath : findOnPath('chromium', env));
  const existing = found();
  if (existing) return existing;
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  if (!isRoot) throw new Error(`no Chromium at ${defaultPath} or on PATH. ${HOW_TO_GET_CHROMIUM}`);
  const run =
    options.run ??
    ((file: string, args: string[]) =>
      void execFileSync(file, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...env, DEBIAN_FRONTEND: 'noninteractive' } }));
  options.log?.('no Chromium found; installing it with apt-get (running as root) …');
  try {
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'chromium']);
  } catch (err) {
    throw new Error(`apt-get could not install chromium (${(err as Error).message.split('\n')[0]}). ${HOW_TO_GET_CHROMIUM}`);
  }
  const installed = found();
  if (!installed) throw new Error(`apt-get installed chromium but there is no ${defaultPath}. ${HOW_TO_GET_CHROMIUM}`);
  return installed;
}
