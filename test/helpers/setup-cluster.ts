/**
 * Per test file of the cluster suite: a fresh Temporal cluster on PostgreSQL (worker/cluster) started before the
 * file's own hooks and stopped after them. startDevServer (temporalServers.ts) connects to it through
 * ECP_TEST_TEMPORAL_ADDRESS, so the workflow suite's files run against it unchanged; fault tests reach it with
 * currentCluster().
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startCluster, type LocalCluster } from '../../worker/cluster/cluster';
import { setCurrentCluster } from './cluster';

let cluster: LocalCluster | undefined;
let dir: string | undefined;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ecp-cluster-test-'));
  cluster = await startCluster({ dir, log: process.env.ECP_CLUSTER_VERBOSE ? (l) => console.log(`[cluster] ${l}`) : undefined });
  process.env.ECP_TEST_TEMPORAL_ADDRESS = cluster.address;
  setCurrentCluster(cluster);
}, 180_000);

afterAll(async () => {
  setCurrentCluster(undefined);
  delete process.env.ECP_TEST_TEMPORAL_ADDRESS;
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);
