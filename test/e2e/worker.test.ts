import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('the worker process fails closed on bad configuration', () => {
  it('refuses to start on a policy that does not validate, naming file, line and reason, and starts no server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecp-worker-'));
    cpSync('examples/demo/policies', join(dir, 'policies'), { recursive: true });
    cpSync('examples/demo/action-types.yaml', join(dir, 'action-types.yaml'));
    writeFileSync(join(dir, 'directory.yaml'), 'agents: {}\nhumans: {}\ngroups: { finance: {}, sre: {} }\n');
    writeFileSync(join(dir, 'policies', 'typo.cedar'), '\n\n@id("typo")\npermit (principal, action == Action::"payments.refund", resource) when { context.parameters.amout > 1 };\n');
    writeFileSync(join(dir, 'ecp.yaml'), 'policies: ./policies\nactionTypes: ./action-types.yaml\ndirectory: ./directory.yaml\n');

    // TEMPORAL_ADDRESS points nowhere: validation must fail before any connection is attempted.
    const env = { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', ECP_DATA_DIR: join(dir, 'data') };
    const error = (await run(process.execPath, ['--import', 'tsx', 'worker/main.ts', '--config', join(dir, 'ecp.yaml')], { env }).catch((e: unknown) => e)) as {
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
      const dir = mkdtempSync(join(tmpdir(), 'ecp-start-'));
      const env = { ...process.env, TEMPORAL_ADDRESS: '', ECP_CONFIG: '', ECP_DATA_DIR: dir, ECP_TEMPORAL_PORT: String(port), DEMO_TARGET_PORT: '0' };
      const error = (await run(process.execPath, ['--import', 'tsx', 'worker/start.ts'], { env, timeout: 60_000 }).catch((e: unknown) => e)) as { code: number; stdout: string; stderr: string };
      expect(error.code).toBe(1);
      expect(error.stderr).toContain(`port ${port} (Temporal frontend) is already in use`);
      expect(error.stdout).not.toContain('ECP is running');
    } finally {
      busy.close();
    }
  });

  it('exits 2 with a usage message when no configuration is given', async () => {
    const env = { ...process.env, ECP_CONFIG: '' };
    const error = (await run(process.execPath, ['--import', 'tsx', 'worker/main.ts'], { env }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(2);
    expect(error.stderr).toMatch(/pass --config <ecp.yaml> or set ECP_CONFIG/);
  });
});
