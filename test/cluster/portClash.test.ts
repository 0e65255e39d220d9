import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Connection } from '@temporalio/client';
import { startCluster, type LocalCluster } from '../../worker/cluster/cluster';
import { CLUSTER } from '../../worker/cluster/settings';

const dir = mkdtempSync(join(tmpdir(), 'ecp-cluster-clash-'));
let cluster: LocalCluster | undefined;
let blocker: Server | undefined;
afterAll(async () => {
  await cluster?.stop();
  await new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r()));
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** The gRPC port a process's generated config gives it. */
const grpcPort = (file: string, service: string): number =>
  (parse(readFileSync(join(dir, file), 'utf8')) as { services: Record<string, { rpc: { grpcPort: number } }> }).services[service]!.rpc
    .grpcPort;

describe('starting a cluster when another program takes a planned port first', () => {
  it('starts the process that could not bind again on new ports, and the cluster comes up', async () => {
    // The frontend's config is written when it starts, before matching starts: take matching's planned port then.
    let taken: number | undefined;
    const watcher = setInterval(() => {
      if (blocker || !existsSync(join(dir, 'frontend.yaml'))) return;
      taken = grpcPort('frontend.yaml', 'matching');
      blocker = createServer().listen(taken, '127.0.0.1');
    }, 10);
    const lines: string[] = [];
    try {
      cluster = await startCluster({ dir, log: (line) => lines.push(line) });
    } finally {
      clearInterval(watcher);
    }
    expect(taken).toBeDefined();
    expect(blocker?.listening).toBe(true);
    expect(lines).toContain('Temporal matching could not bind its port; starting it again on new ports');
    const matchingPort = grpcPort('matching.yaml', 'matching');
    expect(matchingPort).not.toBe(taken);
    expect(Object.keys(cluster.pids()).sort()).toEqual(['frontend', 'history-1', 'history-2', 'matching', 'worker']);
    // Matching answers on its new port: describing a task queue is matching's to answer.
    const connection = await Connection.connect({ address: cluster.address });
    try {
      const described = await connection.workflowService.describeTaskQueue({ namespace: CLUSTER.namespace, taskQueue: { name: 'clash' } });
      expect(described.pollers).toEqual([]);
    } finally {
      await connection.close();
    }
  });
});
