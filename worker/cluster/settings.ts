/**
 * The one source of the production shape's versions and settings: `npm run cluster` starts exactly this, and
 * docker-compose.yml states the same values (test/unit/cluster-settings.test.ts fails when the two drift).
 */
import { stringify } from 'yaml';
import { ECP_SEARCH_ATTRIBUTES, SERVER_LIMIT_SETTINGS } from '../../common';

export const CLUSTER = {
  /** The Temporal server (Go module go.temporal.io/server, image temporalio/server). */
  temporalServerVersion: '1.32.2',
  /** The Go toolchain the server's go.mod accepts; `go install` fetches it through the module proxy when older. */
  goToolchain: 'go1.27.3',
  /** PostgreSQL major version (image postgres:<major>; the local cluster uses /usr/lib/postgresql/<major>). */
  postgresMajor: 15,
  /** Temporal's SQL plugin for PostgreSQL 12 and newer. */
  sqlPlugin: 'postgres12',
  /** Shards of the history service; fixed for the life of a database. */
  numHistoryShards: 4,
  /** The namespace ECP uses, created with this retention for closed attempts' histories. */
  namespace: 'default',
  namespaceRetention: '720h',
  /** Databases the server uses: persistence and visibility. */
  databases: { temporal: 'temporal', visibility: 'temporal_visibility' },
  /** Database role the server connects as. */
  postgresUser: 'temporal',
} as const;

/** The search attributes ECP registers, as `temporal operator search-attribute create` names their types. */
export function clusterSearchAttributes(): Record<string, string> {
  const cliType: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList', DATETIME: 'Datetime' };
  return Object.fromEntries(ECP_SEARCH_ATTRIBUTES.map((k) => [k.name, cliType[k.type] ?? k.type]));
}

/** Temporal dynamic config (name → constrained values) for a server ECP controls. */
export function clusterDynamicConfig(): Record<string, Array<{ value: unknown }>> {
  return {
    // Workflow Update (ECP's `decide`) is on by default since Temporal 1.25; set so the plane does not rely on it.
    'frontend.enableUpdateWorkflowExecution': [{ value: true }],
    'frontend.enableUpdateWorkflowExecutionAsyncAccepted': [{ value: true }],
    // ECP's record protection (common/constants.ts SERVER_LIMIT_SETTINGS).
    ...Object.fromEntries(Object.entries(SERVER_LIMIT_SETTINGS).map(([key, value]) => [key, [{ value }]])),
  };
}

/** The dynamic config file's text. */
export function clusterDynamicConfigYaml(): string {
  return stringify(clusterDynamicConfig());
}
