import { Ajv, type ValidateFunction } from 'ajv';
import { digestOf, directorySchema, EcpError, type Directory, type Proposal } from '../common';
import { loadPolicyBundle, type PolicyBundle } from '../policy/bundle';
import type { PayloadEncryptionConfig } from '../codec/keys';
import { parseDuration } from '../common/duration';
import { actionTypesOf, readConfigFile } from './actionTypes';
import type { ActionTypeConfig, ConsoleConfig, ControlsConfig, NotificationsConfig } from './schema';
import { parseSourceFile } from './yamlFile';

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
}

/**
 * Loads `ecp.yaml` (and the files it points to), validates every part and cross-references them. Any problem throws
 * an EcpError naming the file, line and field — the plane refuses to start on a bad configuration (fail closed).
 */
export function loadPlaneConfig(configPath: string): PlaneConfig {
  const { file, raw, at, referenced } = readConfigFile(configPath);

  let directory: Directory;
  if (typeof raw.directory === 'string') {
    const dirFile = referenced('directory', raw.directory);
    directory = parseSourceFile(dirFile, directorySchema);
  } else directory = raw.directory;

  const actionTypes = actionTypesOf(raw, referenced);

  let bundle: PolicyBundle;
  try {
    bundle = loadPolicyBundle(at(raw.policies), { defaultDeadlineSeconds: parseDuration(raw.defaults.approvalDeadline) });
  } catch (err) {
    if (err instanceof EcpError && err.message.startsWith('cannot read'))
      throw new EcpError(err.code, `${file}: field "policies": ${err.message}`, 'policies');
    throw err;
  }
  const problems = crossCheck(directory, actionTypes, bundle);
  for (const human of Object.keys(raw.console?.humans ?? {})) {
    if (!directory.humans[human]) problems.push(`console: "${human}" has a sign-in secret but is not a human in the directory`);
  }
  for (const [value, human] of Object.entries(raw.console?.oidc?.humans ?? {})) {
    if (!directory.humans[human]) problems.push(`console.oidc.humans: "${value}" maps to "${human}", who is not a human in the directory`);
  }

  if (raw.controls && !(raw.controls.freezeGroup in directory.groups))
    problems.push(`controls.freezeGroup: "${raw.controls.freezeGroup}" is not a group in the directory`);
  for (const [name, channel] of Object.entries(raw.notifications?.channels ?? {})) {
    for (const g of channel.groups ?? [])
      if (!(g in directory.groups)) problems.push(`notifications.channels.${name}.groups: "${g}" is not a group in the directory`);
    for (const h of channel.humans ?? [])
      if (!(h in directory.humans)) problems.push(`notifications.channels.${name}.humans: "${h}" is not a human in the directory`);
  }
  for (const h of Object.keys(raw.notifications?.emails ?? {}))
    if (!(h in directory.humans)) problems.push(`notifications.emails: "${h}" is not a human in the directory`);

  const ajv = new Ajv({ allErrors: false, strict: true });
  const validators: Record<string, ValidateFunction> = {};
  for (const [name, type] of Object.entries(actionTypes)) {
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
    actionTypeVersions: Object.fromEntries(Object.entries(actionTypes).map(([n, { summary: _summary, ...t }]) => [n, digestOf(t)])),
    bundle,
    console: raw.console ?? null,
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
