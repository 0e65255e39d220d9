import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipTargetDir, resolveTemporalCli } from '../../worker/temporalCli';

const executable = (dir: string, name: string) => {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
};

describe('Temporal CLI resolution order', () => {
  const root = mkdtempSync(join(tmpdir(), 'ecp-cli-'));
  const onPath = executable(join(root, 'bin'), 'temporal');
  const dataDir = join(root, 'data');
  const installed = executable(join(pipTargetDir(dataDir), 'bin'), 'temporal');
  const explicit = executable(join(root, 'explicit'), 'temporal-cli');

  it('prefers TEMPORAL_CLI_PATH, then PATH, then the copy in the data directory, else the SDK download (null)', () => {
    expect(resolveTemporalCli(dataDir, { TEMPORAL_CLI_PATH: explicit, PATH: join(root, 'bin') })).toBe(explicit);
    expect(resolveTemporalCli(dataDir, { PATH: join(root, 'bin') })).toBe(onPath);
    expect(resolveTemporalCli(dataDir, { PATH: join(root, 'nowhere') })).toBe(installed);
    expect(resolveTemporalCli(join(root, 'empty'), { PATH: join(root, 'nowhere') })).toBeNull();
  });

  it('says which variable is wrong when TEMPORAL_CLI_PATH is not executable', () => {
    expect(() => resolveTemporalCli(dataDir, { TEMPORAL_CLI_PATH: join(root, 'missing') })).toThrow(
      /TEMPORAL_CLI_PATH=.*missing is not an executable file/,
    );
  });
});
