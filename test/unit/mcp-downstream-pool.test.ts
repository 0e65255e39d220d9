/** Which pool of connections a downstream server's calls use across configuration rebuilds (activities/mcp/downstream.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { McpDownstream } from '../../activities/mcp/downstream';
import { LocalKeptStore } from '../../audit/store/kept';
import type { PlaneRuntime } from '../../config/runtime';
import { mcpServerSchema } from '../../config/schema';

const dir = mkdtempSync(join(tmpdir(), 'ecp-mcp-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the pool of a downstream server', () => {
  it('is kept while the configuration is the same (the same entry, or a rebuilt equal one), and replaced when it changes', async () => {
    const config = mcpServerSchema.parse({ command: process.execPath, args: ['server.js'] });
    const runtime = { config: { mcp: { servers: { files: config } } } } as unknown as PlaneRuntime;
    const downstream = new McpDownstream(runtime, { dataDir: dir, kept: new LocalKeptStore(dir), log: () => {} });
    try {
      const first = downstream.pool('files');
      expect(downstream.pool('files')).toBe(first);
      // A reload or a catalogue change rebuilds the configuration: equal settings keep the pool (and its connections).
      (runtime as { config: unknown }).config = { mcp: { servers: { files: structuredClone(config) } } };
      expect(downstream.pool('files')).toBe(first);
      expect(downstream.pool('files')).toBe(first);
      // Changed settings: a new pool, made for them.
      (runtime as { config: unknown }).config = { mcp: { servers: { files: { ...config, args: ['other.js'] } } } };
      const second = downstream.pool('files');
      expect(second).not.toBe(first);
      expect(second.config).toMatchObject({ args: ['other.js'] });
      expect(downstream.pool('files')).toBe(second);
      (runtime as { config: unknown }).config = { mcp: { servers: {} } };
      expect(() => downstream.pool('files')).toThrow('MCP server "files" is not configured on this worker');
    } finally {
      await downstream.close();
    }
  });
});
