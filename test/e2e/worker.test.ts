import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/temporalServers';
import { scratchDir } from '../helpers/scratchDir';

const run = promisify(execFile);

/** A valid plane configuration (demo policies and action types, an empty directory) in a temp folder. */
function validConfig(): string {
  const dir = scratchDir('ecp-config');
  cpSync('examples/demo/policies', join(dir, 'policies'), { recursive: true });
  cpSync('examples/demo/action-types.yaml', join(dir, 'action-types.yaml'));
  writeFileSync(join(dir, 'directory.yaml'), 'agents: {}\nhumans: {}\ngroups: { finance: {}, sre: {} }\n');
  writeFileSync(join(dir, 'ecp.yaml'), 'policies: ./policies\nactionTypes: ./action-types.yaml\ndirectory: ./directory.yaml\n');
  return join(dir, 'ecp.yaml');
}

describe('the worker process fails closed on bad configuration', () => {
  it('refuses to start on a policy that does not validate, naming file, line and reason, and starts no server', async () => {
    const dir = scratchDir('ecp-worker');
    cpSync('examples/demo/policies', join(dir, 'policies'), { recursive: true });
    cpSync('examples/demo/action-types.yaml', join(dir, 'action-types.yaml'));
    writeFileSync(join(dir, 'directory.yaml'), 'agents: {}\nhumans: {}\ngroups: { finance: {}, sre: {} }\n');
    writeFileSync(
      join(dir, 'policies', 'typo.cedar'),
      '\n\n@id("typo")\npermit (principal, action == Action::"payments.refund", resource) when { context.parameters.amout > 1 };\n',
    );
    writeFileSync(join(dir, 'ecp.yaml'), 'policies: ./policies\nactionTypes: ./action-types.yaml\ndirectory: ./directory.yaml\n');

    // TEMPORAL_ADDRESS points nowhere: validation must fail before any connection is attempted.
    const env = { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', ECP_DATA_DIR: join(dir, 'data') };
    const error = (await run(process.execPath, ['--import', 'tsx', 'worker/main.ts', '--config', join(dir, 'ecp.yaml')], { env }).catch(
      (e: unknown) => e,
    )) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/typo\.cedar:4:\d+: .*amout/);
    expect(error.stderr).not.toMatch(/cannot reach Temporal/);
  });

  it('npm start refuses to join a server it did not start when its Temporal port is taken', async () => {
    const busy = createServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const { port } = busy.address() as AddressInfo;
    try {
      const dir = scratchDir('ecp-start');
      const env = {
        ...process.env,
        TEMPORAL_ADDRESS: '',
        ECP_CONFIG: '',
        ECP_DATA_DIR: dir,
        ECP_TEMPORAL_PORT: String(port),
        DEMO_TARGET_PORT: '0',
        ECP_CONSOLE_PORT: 'off',
      };
      const error = (await run(process.execPath, ['--import', 'tsx', 'worker/start.ts'], { env, timeout: 60_000 }).catch(
        (e: unknown) => e,
      )) as { code: number; stdout: string; stderr: string };
      expect(error.code).toBe(1);
      expect(error.stderr).toContain(`port ${port} (Temporal frontend) is already in use`);
      expect(error.stdout).not.toContain('ECP is running');
    } finally {
      busy.close();
    }
  });

  it('npm start checks every port first, names all the busy ones in one message, and writes nothing', async () => {
    const occupy = async () => {
      const server = createServer().listen(0, '127.0.0.1');
      await once(server, 'listening');
      return server;
    };
    const busyTemporal = await occupy();
    const busyConsole = await occupy();
    const temporalPort = (busyTemporal.address() as AddressInfo).port;
    const consolePort = (busyConsole.address() as AddressInfo).port;
    try {
      const dataDir = join(scratchDir('ecp-start'), 'data');
      const env = {
        ...process.env,
        TEMPORAL_ADDRESS: '',
        ECP_CONFIG: '',
        ECP_DATA_DIR: dataDir,
        ECP_TEMPORAL_PORT: String(temporalPort),
        DEMO_TARGET_PORT: '0',
        ECP_CONSOLE_PORT: String(consolePort),
      };
      const error = (await run(process.execPath, ['--import', 'tsx', 'worker/start.ts'], { env, timeout: 60_000 }).catch(
        (e: unknown) => e,
      )) as { code: number; stdout: string; stderr: string };
      expect(error.code).toBe(1);
      expect(error.stderr).toContain(`${temporalPort} (Temporal frontend)`);
      expect(error.stderr).toContain(`${consolePort} (web console)`);
      expect(error.stderr).toContain('ECP_CONSOLE_PORT');
      expect(error.stderr).toContain('ECP_TEMPORAL_PORT');
      // Refusing leaves no trace: no demo configuration, no keys, no data directory at all.
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      busyTemporal.close();
      busyConsole.close();
    }
  });

  it('npm run worker without TEMPORAL_ADDRESS refuses to start a hidden dev server unless asked for it', async () => {
    const dataDir = join(scratchDir('ecp-worker'), 'data');
    const env = { ...process.env, TEMPORAL_ADDRESS: '', ECP_EMBEDDED_SERVER: '', ECP_DATA_DIR: dataDir };
    const args = ['--import', 'tsx', 'worker/main.ts', '--config', validConfig()];
    const refused = (await run(process.execPath, args, { env, timeout: 60_000 }).catch((e: unknown) => e)) as {
      code: number;
      stdout: string;
      stderr: string;
    };
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/no Temporal server; set TEMPORAL_ADDRESS=host:port/);
    expect(refused.stderr).toMatch(/--embedded or ECP_EMBEDDED_SERVER=1/);
    expect(refused.stdout).not.toMatch(/embedded Temporal dev server/);
    expect(existsSync(dataDir)).toBe(false);

    // Asked for explicitly, it goes for the embedded server: shown by its port check on a port held here.
    const busy = createServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const { port } = busy.address() as AddressInfo;
    try {
      for (const ask of [
        { args: [...args, '--embedded'], env: {} },
        { args, env: { ECP_EMBEDDED_SERVER: '1' } },
      ]) {
        const embedded = (await run(process.execPath, ask.args, {
          env: { ...env, ...ask.env, ECP_TEMPORAL_PORT: String(port) },
          timeout: 60_000,
        }).catch((e: unknown) => e)) as { code: number; stderr: string };
        expect(embedded.code).toBe(1);
        expect(embedded.stderr).toContain(`port ${port} (Temporal frontend) is already in use`);
      }
    } finally {
      busy.close();
    }
  });

  it('exits 2 with a usage message when no configuration is given', async () => {
    const env = { ...process.env, ECP_CONFIG: '' };
    const error = (await run(process.execPath, ['--import', 'tsx', 'worker/main.ts'], { env }).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(2);
    expect(error.stderr).toMatch(/pass --config <ecp.yaml> or set ECP_CONFIG/);
  });
});

describe('npm start on Ctrl-C', () => {
  it('stops quietly: no dev-server warnings or errors, exit 0', async () => {
    const dataDir = scratchDir('ecp-ctrlc');
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: '',
      ECP_CONFIG: '',
      ECP_DATA_DIR: dataDir,
      ECP_TEMPORAL_PORT: String(await freePort()),
      DEMO_TARGET_PORT: String(await freePort()),
      ECP_CONSOLE_PORT: 'off',
    };
    // Its own process group, like a terminal's foreground job: Ctrl-C signals the plane and its dev server alike.
    const child = spawn(process.execPath, ['--import', 'tsx', 'worker/start.ts'], {
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const started = Date.now();
      while (!output.includes('ECP is running') && Date.now() - started < 120_000 && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 250));
      expect(output).toContain('ECP is running');
      await new Promise((r) => setTimeout(r, 2000)); // let the worker and the server's own pollers settle
      const before = output.length;
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toBe(0);
      const afterCtrlC = output.slice(before);
      expect(afterCtrlC).toContain('stopping');
      expect(afterCtrlC).not.toMatch(/level=(WARN|ERROR)|network dial error/);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  });
});
