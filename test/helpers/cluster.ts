import type { LocalCluster } from '../../worker/cluster/cluster';

let current: LocalCluster | undefined;

/** Set by test/helpers/setup-cluster.ts for the file running now. */
export function setCurrentCluster(cluster: LocalCluster | undefined): void {
  current = cluster;
}

/** The cluster this test file runs against (started before the file's own hooks, stopped after them). */
export function currentCluster(): LocalCluster {
  if (!current) throw new Error('no cluster: this file must run in the vitest project `cluster` (npm run test:cluster)');
  return current;
}
