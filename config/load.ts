import { Ajv, type ValidateFunction } from 'ajv';
import { digestOf, directorySchema, EcpError, type Directory, type Proposal } from '../common';
import { loadPolicyBundle, type PolicyBundle } from '../policy/bundle';
import type { PayloadEncryptionConfig } from '../codec/keys';
import { parseDuration } from '../common/duration';
import { actionTypesOf, readConfigFile } from './actionTypes';
import type { ActionTypeConfig, ConsoleConfig, McpConfig, ControlsConfig, NotificationsConfig } from './schema';
import { parseSourceFile } from './yamlFile';
import type { McpToolDefinition } from '../common/mcp';
import { dataDirFromEnv } from './dataDir';
import { mcpCatalogueFile, readMcpCatalogue } from './mcpCatalogueFile';
import { ajvCompiler, mcpActionTypesOf, mcpCedarDeclarations, type McpActionTypes } from './mcpActionTypes';

/** Everything the plane needs to govern attempts, loaded and cross-checked. Immutable; reload builds a new one. */
export interface PlaneConfig {
  file: string;
  directory: Directory;
  directoryVersion: string;
  actionTypes: Record<string, ActionTypeConfig>;
  actionTypeVersions: Record<string, string>;
  bundle: PolicyBundle;
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

export interface LoadPlaneConfigOptions {
  /**
   * The downstream tool catalogue to build MCP action types from (the worker passes its live one). Absent: the
   * catalogue the worker last kept in the data directory (`<ECP_DATA_DIR>/mcp/catalogue.json`), else none.
   */
  mcpTools?: readonly McpToolDefinition[];
}

/**
 * Loads `ecp.yaml` (and the files it points to), validates every part and cross-references them. Any problem throws
 * an EcpError naming the file, line and field — the plane refuses to start on a bad configuration (fail closed).
 */
export function loadPlaneConfig(configPath: string, options: LoadPlaneConfigOptions = {}): PlaneConfig {
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

  let bundle: PolicyBundle;
  try {
    bundle = loadPolicyBundle(at(raw.policies), {
      defaultDeadlineSeconds: parseDuration(raw.defaults.approvalDeadline),
      ...(hasMcp ? { extendSchema: (declared) => mcpCedarDeclarations(raw.mcp, mcp.tools, declared) } : {}),
    });
  } catch (err) {
    if (err instanceof EcpError && err.message.startsWith('cannot read'))
      throw new EcpError(err.code, `${file}: field "policies": ${err.message}`, 'policies');
    if (hasMcp && err instanceof EcpError && err.message.includes('Action::"mcp.')) throw undiscoveredToolHint(err, mcpTools);
    throw err;
  }
  const problems = crossCheck(directory, actionTypes, bundle);
  if (hasMcp) {
    for (const name of Object.keys(userActionTypes)) {
      if (name.startsWith('mcp.'))
        problems.push(`action type "${name}": names starting with "mcp." are the tools of mcp.servers (made by ECP, not configured)`);
    }
  }
  for (const human of Object.keys(raw.console?.humans ?? {})) {
    if (!directory.humans[human]) problems.push(`console: "${human}" has a sign-in secret but is not a human in the directory`);
  }
  for (const [value, human] of Object.entries(raw.console?.oidc?.humans ?? {})) {
    if (!directory.humans[human]) problems.push(`console.oidc.humans: "${value}" maps to "${human}", who is not a human in the directory`);
  }

  if (raw.controls && !Object.hasOwn(directory.groups, raw.controls.freezeGroup))
    problems.push(`controls.freezeGroup: "${raw.controls.freezeGroup}" is not a group in the directory`);
  for (const [name, channel] of Object.entries(raw.notifications?.channels ?? {})) {
    for (const g of channel.groups ?? [])
      if (!Object.hasOwn(directory.groups, g))
        problems.push(`notifications.channels.${name}.groups: "${g}" is not a group in the directory`);
    for (const h of channel.humans ?? [])
      if (!Object.hasOwn(directory.humans, h))
        problems.push(`notifications.channels.${name}.humans: "${h}" is not a human in the directory`);
  }
  for (const h of Object.keys(raw.notifications?.emails ?? {}))
    if (!Object.hasOwn(directory.humans, h)) problems.push(`notifications.emails: "${h}" is not a human in the directory`);

  for (const [name, type] of Object.entries(userActionTypes)) {
    try {
      validators[name] = ajv.compile(type.parameters);
    } catch (err) {
      problems.push(`action type "${name}": parameters is not a valid JSON Schema: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new EcpError('config_invalid', `${file} is inconsistent:\n  ${problems.join('\n  ')}`);

  return {
    file,
    directory,
    directoryVersion: digestOf(directory),
    actionTypes,
    // The summary template is presentation only: editing it must not change the version an approval pinned.
    actionTypeVersions: {
      ...Object.fromEntries(Object.entries(userActionTypes).map(([n, { summary: _summary, ...t }]) => [n, digestOf(t)])),
      ...mcp.versions,
    },
    bundle,
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
}

/** A policy names an MCP action the catalogue does not (yet) have: say so, and where the catalogue comes from. */
function undiscoveredToolHint(err: EcpError, tools: readonly McpToolDefinition[] | null): EcpError {
  const source =
    tools === null
      ? `no tool catalogue has been discovered yet (${mcpCatalogueFile(dataDirFromEnv())} is missing: start the worker once)`
      : `the tool catalogue lists ${tools.length} tool(s)`;
  return new EcpError(
    err.code,
    `${err.message}\n  (MCP tool actions are declared from the discovered catalogue and ${source}; a tool that is not (yet) discovered cannot be named — name its server's group, e.g. \`action in Action::"mcp.<server>"\`)`,
    err.field,
  );
}

function crossCheck(directory: Directory, actionTypes: Record<string, ActionTypeConfig>, bundle: PolicyBundle): string[] {
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
  for (const [policyId, req] of Object.entries(bundle.requirements)) {
    for (const g of req.groups) {
      if (!groups.has(g)) problems.push(`${bundle.sources[policyId]}: policy "${policyId}" requires approval from undeclared group "${g}"`);
    }
  }
  const declared = new Set(bundle.actions);
  for (const name of Object.keys(actionTypes)) {
    if (!declared.has(name)) problems.push(`action type "${name}" has no action in ${bundle.dir}/schema.cedarschema`);
  }
  return problems;
}
