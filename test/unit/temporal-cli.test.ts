import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedToolPath, pipTargetDir, resolveTemporalCli, TEMPORAL_TOOLS } from '../../worker/temporalCli';
import { scratchDir } from '../helpers/scratchDir';

const executable = (dir: string, name: string) => {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
};

describe('Temporal CLI resolution order', () => {
  const root = scratchDir('ecp-cli');
  const onPath = executable(join(root, 'bin'), 'temporal');
  const dataDir = join(root, 'data');
  const installed = executable(join(pipTargetDir(dataDir), 'bin'), 'temporal');
  const explicit = executable(join(root, 'explicit'), 'temporal-cli');

  const cacheDir = join(root, 'cache');
  const cached = executable(dirname(cachedToolPath(TEMPORAL_TOOLS.cli, cacheDir)), 'temporal');
  const noCache = join(root, 'no-cache');

  it('prefers TEMPORAL_CLI_PATH, then PATH, then the project cache, then the copy in the data directory, else the SDK download (null)', () => {
    const env = { PATH: join(root, 'bin'), ECP_TOOLS_CACHE: cacheDir };
    expect(resolveTemporalCli(dataDir, { ...env, TEMPORAL_CLI_PATH: explicit })).toBe(explicit);
    expect(resolveTemporalCli(dataDir, env)).toBe(onPath);
    expect(resolveTemporalCli(dataDir, { PATH: join(root, 'nowhere'), ECP_TOOLS_CACHE: cacheDir })).toBe(cached);
    expect(resolveTemporalCli(dataDir, { PATH: join(root, 'nowhere'), ECP_TOOLS_CACHE: noCache })).toBe(installed);
    expect(resolveTemporalCli(join(root, 'empty'), { PATH: join(root, 'nowhere'), ECP_TOOLS_CACHE: noCache })).toBeNull();
  });

  it('says which variable is wrong when TEMPORAL_CLI_PATH is not executable', () => {
    expect(() => resolveTemporalCli(dataDir, { TEMPORAL_CLI_PATH: join(root, 'missing'), ECP_TOOLS_CACHE: noCache })).toThrow(
      /TEMPORAL_CLI_PATH=.*missing is not an executable file/,
    );
  });
});
