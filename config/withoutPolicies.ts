import { Ajv, type ValidateFunction } from 'ajv';
import { digestOf, directorySchema, EcpError, type Directory, type Proposal } from '../common';
import type { PayloadEncryptionConfig } from '../codec/keys';
import type { McpToolDefinition } from '../common/mcp';
import { actionTypesOf, readConfigFile } from './actionTypes';
import { dataDirFromEnv } from './dataDir';
import { readMcpCatalogue } from './mcpCatalogueFile';
import { ajvCompiler, mcpActionTypesOf, type McpActionTypes } from './mcpActionTypes';
import type { ActionTypeConfig, ConsoleConfig, ControlsConfig, McpConfig, NotificationsConfig } from './schema';
import { parseSourceFile } from './yamlFile';

/*
 * ecp.yaml and everything it points to except the policy bundle. Its own module, importing nothing of Cedar, so the
 * CLI and client libraries that only need the directory and the action types start without loading the policy engine;
 * config/load.ts adds the bundle on top of exactly this (one set of rules for both).
 */

/**
 * The configuration without its policy bundle: the directory, the action types and their parameter schemas and the
 * sections of ecp.yaml, validated and cross-checked as the plane does (config/load.ts), except for the checks that
 * need the policies.
 */
export interface ConfigWithoutPolicies {
  file: string;
  directory: Directory;
  directoryVersion: string;
  actionTypes: Record<string, ActionTypeConfig>;
  actionTypeVersions: Record<string, string>;
  /** The web console's sign-in configuration, or null when the file has no `console:` section. */
  console: ConsoleConfig | null;
  /** ecp.yaml's `payloadEncryption` section as written (keys are resolved by codec/dataConverter.ts). */
  payloadEncryption?: PayloadEncryptionConfig;
  /** The kill switch section, or null: no freezes (attempts do not read the freeze list). */
  controls: ControlsConfig | null;
  /** Notification channels, or null: no notifier. */
  notifications: NotificationsConfig | null;
  validateParameters(proposal: Pick<Proposal, 'actionType' | 'parameters'>): string | null;
  /** ecp.yaml's `mcp:` section, or absent when the file has none. */
  mcp?: McpConfig;
  /** MCP action type name → the downstream tool it was made from (docs/mcp.md). */
  mcpTools?: Record<string, McpToolDefinition>;
  /** Discovered tools left out of the action types, with the reason. */
  mcpSkipped?: McpActionTypes['skipped'];
}

export interface LoadConfigOptions {
  /**
   * The downstream tool catalogue to build MCP action types from (the worker passes its live one). Absent: the
   * catalogue the worker last kept in the data directory (`<ECP_DATA_DIR>/mcp/catalogue.json`), else none.
   */
  mcpTools?: readonly McpToolDefinition[];
}

/**
 * Loads `ecp.yaml` and the files it points to, except the policies, validates every part and cross-references them.
 * Any problem throws an EcpError naming the file, line and field, as `loadPlaneConfig` would for the same file. What
 * it cannot see: a broken or inconsistent policy bundle, which the plane refuses to start with.
 */
export function loadConfigWithoutPolicies(configPath: string, options: LoadConfigOptions = {}): ConfigWithoutPolicies {
  const read = readConfigWithoutPolicies(configPath, options);
  throwOnProblems(read.config.file, [...read.problems.directory, ...read.problems.others]);
  return read.config;
}

/** What config/load.ts builds the plane's configuration from: see {@link readConfigWithoutPolicies}. */
export interface ConfigRead {
  config: ConfigWithoutPolicies;
  /** ecp.yaml's `policies` field resolved against its folder, and the default approval deadline as written. */
  policies: { dir: string; defaultDeadline: string };
  /** The MCP parts the policy bundle's schema is extended with, or null when ecp.yaml has no MCP servers. */
  mcp: { raw: McpConfig | undefined; tools: McpActionTypes['tools']; catalogue: readonly McpToolDefinition[] | null } | null;
  /** Problems found so far, not thrown yet: the directory's own, and all others (the policies' go in between). */
  problems: { directory: string[]; others: string[] };
}

/**
 * Reads and validates everything but the policies, collecting the cross-reference problems instead of throwing them
 * (a file that does not parse or fit its schema still throws at once).
 */
export function readConfigWithoutPolicies(configPath: string, options: LoadConfigOptions = {}): ConfigRead {
  const { file, raw, at, referenced } = readConfigFile(configPath);
  const hasMcp = Object.keys(raw.mcp?.servers ?? {}).length > 0;
  const mcpTools = hasMcp ? (options.mcpTools ?? readMcpCatalogue(dataDirFromEnv()) ?? null) : null;

  let directory: Directory;
  if (typeof raw.directory === 'string') {
    const dirFile = referenced('directory', raw.directory);
    directory = parseSourceFile(dirFile, directorySchema);
  } else directory = raw.directory;

  const userActionTypes = actionTypesOf(raw, referenced);
  const ajv = new Ajv({ allErrors: false, strict: true });
  const validators: Record<string, ValidateFunction> = {};
  const mcp = mcpActionTypesOf(raw.mcp, mcpTools ?? [], ajvCompiler(ajv, validators));
  const actionTypes: Record<string, ActionTypeConfig> = { ...userActionTypes, ...mcp.actionTypes };

  const others: string[] = [];
  if (hasMcp) {
    for (const name of Object.keys(userActionTypes)) {
      if (name.startsWith('mcp.'))
        others.push(`action type "${name}": names starting with "mcp." are the tools of mcp.servers (made by ECP, not configured)`);
    }
  }
  for (const human of Object.keys(raw.console?.humans ?? {})) {
    if (!directory.humans[human]) others.push(`console: "${human}" has a sign-in secret but is not a human in the directory`);
  }
  for (const [value, human] of Object.entries(raw.console?.oidc?.humans ?? {})) {
    if (!directory.humans[human]) others.push(`console.oidc.humans: "${value}" maps to "${human}", who is not a human in the directory`);
  }

  if (raw.controls && !Object.hasOwn(directory.groups, raw.controls.freezeGroup))
    others.push(`controls.freezeGroup: "${raw.controls.freezeGroup}" is not a group in the directory`);
  for (const [name, channel] of Object.entries(raw.notifications?.channels ?? {})) {
    for (const g of channel.groups ?? [])
      if (!Object.hasOwn(directory.groups, g)) others.push(`notifications.channels.${name}.groups: "${g}" is not a group in the directory`);
    for (const h of channel.humans ?? [])
      if (!Object.hasOwn(directory.humans, h)) others.push(`notifications.channels.${name}.humans: "${h}" is not a human in the directory`);
  }
  for (const h of Object.keys(raw.notifications?.emails ?? {}))
    if (!Object.hasOwn(directory.humans, h)) others.push(`notifications.emails: "${h}" is not a human in the directory`);

  for (const [name, type] of Object.entries(userActionTypes)) {
    try {
      validators[name] = ajv.compile(type.parameters);
    } catch (err) {
      others.push(`action type "${name}": parameters is not a valid JSON Schema: ${(err as Error).message}`);
    }
  }

  const config: ConfigWithoutPolicies = {
    file,
    directory,
    directoryVersion: digestOf(directory),
    actionTypes,
    // The summary template is presentation only: editing it must not change the version an approval pinned.
    actionTypeVersions: {
      ...Object.fromEntries(Object.entries(userActionTypes).map(([n, { summary: _summary, ...t }]) => [n, digestOf(t)])),
      ...mcp.versions,
    },
    console: raw.console ?? null,
    ...(raw.mcp ? { mcp: raw.mcp, mcpTools: mcp.tools, mcpSkipped: mcp.skipped } : {}),
    controls: raw.controls ?? null,
    notifications: raw.notifications ?? null,
    ...(raw.payloadEncryption ? { payloadEncryption: raw.payloadEncryption } : {}),
    validateParameters({ actionType, parameters }) {
      const validate = validators[actionType];
      if (!validate) return `unknown action type "${actionType}"`;
      if (validate(parameters)) return null;
      const err = validate.errors?.[0];
      const field = `parameters${(err?.instancePath ?? '').replace(/\//g, '.')}`;
      return `field "${field}" ${err?.message ?? 'is invalid'}`;
    },
  };
  return {
    config,
    policies: { dir: at(raw.policies), defaultDeadline: raw.defaults.approvalDeadline },
    mcp: hasMcp ? { raw: raw.mcp, tools: mcp.tools, catalogue: mcpTools } : null,
    problems: { directory: directoryProblems(directory), others },
  };
}

/** Throws the configuration's problems, all of them, as one EcpError; nothing when there are none. */
export function throwOnProblems(file: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new EcpError('config_invalid', `${file} is inconsistent:\n  ${problems.join('\n  ')}`);
}

function directoryProblems(directory: Directory): string[] {
  const problems: string[] = [];
  const groups = new Set(Object.keys(directory.groups));
  for (const [id, human] of Object.entries(directory.humans)) {
    for (const g of human.groups) if (!groups.has(g)) problems.push(`directory: human "${id}" is in undeclared group "${g}"`);
    if (id in directory.agents) problems.push(`directory: "${id}" is both a human and an agent`);
  }
  for (const [id, agent] of Object.entries(directory.agents)) {
    if (!(agent.owner in directory.humans))
      problems.push(`directory: agent "${id}" has owner "${agent.owner}", who is not a human in the directory`);
  }
  return problems;
}
