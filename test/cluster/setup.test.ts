import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { ECP_SEARCH_ATTRIBUTES } from '../../common';
import { parseDuration } from '../../common/duration';
import type { LocalCluster } from '../../worker/cluster/cluster';
import { CLUSTER } from '../../worker/cluster/settings';
import { missingServerLimits } from '../../worker/serverLimits';
import { currentCluster } from '../helpers/cluster';

let cluster: LocalCluster;
let connection: Connection;
beforeAll(async () => {
  cluster = currentCluster();
  connection = await Connection.connect({ address: cluster.address });
});
afterAll(async () => connection?.close());

describe('the cluster `npm run cluster` starts is set up for ECP', () => {
  it('runs frontend, matching, worker and two history processes', () => {
    expect(Object.keys(cluster.pids()).sort()).toEqual(['frontend', 'history-1', 'history-2', 'matching', 'worker']);
  });

  it('enforces ECP’s server limits (dynamic config file), as the worker’s own probe sees them', async () => {
    expect(await missingServerLimits(new Client({ connection, namespace: CLUSTER.namespace }))).toEqual([]);
  });

  it('has the namespace with its retention and ECP’s search attributes', async () => {
    const ns = await connection.workflowService.describeNamespace({ namespace: CLUSTER.namespace });
    expect(Number(ns.config?.workflowExecutionRetentionTtl?.seconds)).toBe(parseDuration(CLUSTER.namespaceRetention));
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: CLUSTER.namespace });
    for (const key of ECP_SEARCH_ATTRIBUTES) expect(Object.keys(customAttributes ?? {})).toContain(key.name);
  });
});
