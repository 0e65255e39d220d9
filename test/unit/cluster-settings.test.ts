import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLUSTER, clusterDynamicConfig, clusterSearchAttributes } from '../../worker/cluster/settings';

interface Service {
  image?: string;
  environment?: Record<string, string>;
  command?: string[];
}
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as {
  services: Record<string, Service>;
  configs: Record<string, { content: string }>;
};
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};

describe('the cluster `npm run cluster` starts and docker-compose.yml describe the same production shape', () => {
  it('same Temporal server release: server image, and the schema tool and CLI of that release', () => {
    expect(service('temporal').image).toBe(`temporalio/server:${CLUSTER.temporalServerVersion}`);
    for (const name of ['temporal-schema', 'temporal-setup', 'temporal-admin-tools'])
      expect({ name, image: service(name).image }).toEqual({ name, image: `temporalio/admin-tools:${CLUSTER.temporalServerVersion}` });
  });

  it('same PostgreSQL major version, SQL plugin, shard count and databases', () => {
    expect(service('postgresql').image).toBe(`postgres:${CLUSTER.postgresMajor}`);
    const temporal = service('temporal').environment!;
    expect(temporal.DB).toBe(CLUSTER.sqlPlugin);
    expect(temporal.NUM_HISTORY_SHARDS).toBe(String(CLUSTER.numHistoryShards));
    expect(temporal.POSTGRES_USER).toBe(CLUSTER.postgresUser);
    const schema = service('temporal-schema');
    expect(schema.environment!.SQL_PLUGIN).toBe(CLUSTER.sqlPlugin);
    const script = schema.command!.join('\n');
    for (const db of Object.values(CLUSTER.databases)) expect(script).toMatch(new RegExp(`\\b${db}:`));
  });

  it('same namespace and retention', () => {
    const setup = service('temporal-setup').environment!;
    expect({ namespace: setup.NAMESPACE, retention: setup.NAMESPACE_RETENTION }).toEqual({
      namespace: CLUSTER.namespace,
      retention: CLUSTER.namespaceRetention,
    });
  });

  it('same search attributes, with the same types, as ECP publishes', () => {
    const script = service('temporal-setup').command!.join('\n');
    const registered = Object.fromEntries([...script.matchAll(/--name (\w+) --type (\w+)/g)].map((m) => [m[1], m[2]]));
    expect(registered).toEqual(clusterSearchAttributes());
  });

  it('same dynamic config, ECP’s server limits included', () => {
    expect(parse(compose.configs['temporal-dynamic-config']!.content)).toEqual(clusterDynamicConfig());
    expect(clusterDynamicConfig()['history.maximumSignalsPerExecution']).toEqual([{ value: 64 }]);
  });

  it('every ECP service shares one store, a database the schema service creates on the same PostgreSQL, and serves its metrics', () => {
    const urls = ['ecp-worker', 'ecp-console'].map((name) => service(name).environment!.ECP_STORE_URL);
    expect(urls[0]).toBeDefined();
    expect(urls[1]).toBe(urls[0]);
    const store = new URL(urls[0]!.replace(/\$\{[^}]+\}/g, 'secret'));
    expect(store.protocol).toBe('postgres:');
    expect(store.hostname).toBe('postgresql');
    const database = store.pathname.slice(1);
    expect(Object.values(CLUSTER.databases)).not.toContain(database); // never inside Temporal's own databases
    expect(service('temporal-schema').command!.join('\n')).toContain(`--db ${database} create-database`);
    for (const name of ['ecp-worker', 'ecp-console']) {
      const env = service(name).environment!;
      expect({ name, port: env.ECP_METRICS_PORT, host: env.ECP_METRICS_HOST }).toEqual({ name, port: '9464', host: '0.0.0.0' });
    }
  });
});
