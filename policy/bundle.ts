import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as cedar from './cedarEngine';
import type { ApprovalRequirement } from '../common/advice';
import { digestOf } from '../common/canonical';
import { EcpError } from '../common/errors';
import { requirementFromAnnotations } from './annotations';
import { sliceIndexFor } from './slices';
import { describeCedarErrors, lineAndColumn } from './sourceLocation';

export const SCHEMA_FILE = 'schema.cedarschema';

/** A validated, preparsed Cedar policy bundle. Immutable; a reload builds a new one. */
export interface PolicyBundle {
  dir: string;
  /** Digest over the schema and every policy, pinned in each attempt's context and advice. */
  version: string;
  schemaText: string;
  policies: Record<string, string>;
  effects: Record<string, 'permit' | 'forbid'>;
  /** Where each policy starts, "file:line", for messages. */
  sources: Record<string, string>;
  requirements: Record<string, ApprovalRequirement>;
  /** Forbids marked `@override_by`: the override requirement each turns into when it is the only obstacle. */
  overridable: Record<string, ApprovalRequirement>;
  /**
   * Every group any approval policy or overridable forbid names (approvers, escalation, override and ratification
   * groups): only their members are pinned as possible deciders.
   */
  approvalGroups: string[];
  /** Actions the schema declares (action type names). */
  actions: string[];
  /** Deadline of approval policies without `@deadline` (from configuration); kept so the bundle can be re-derived. */
  defaultDeadlineSeconds: number;
}

export interface LoadPolicyOptions {
  defaultDeadlineSeconds: number;
}

/**
 * Loads every `*.cedar` file in `dir` plus `schema.cedarschema` (policy ids from `@id`, else "<file>#<n>") and builds
 * the bundle with `bundleFromTexts`'s rules: strict validation, requirements from annotations, preparsed. Throws an
 * EcpError listing every problem as "file:line:col: reason" — fail closed.
 */
export function loadPolicyBundle(dir: string, options: LoadPolicyOptions): PolicyBundle {
  const problems: string[] = [];
  const schemaPath = join(dir, SCHEMA_FILE);
  let schemaText = '';
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    schemaText = readFileSync(schemaPath, 'utf8');
  } catch (err) {
    throw new EcpError('policy_invalid', `cannot read the Cedar schema ${schemaPath}: ${(err as Error).message}`);
  }
  const schemaCheck = cedar.checkParseSchema(schemaText);
  if (schemaCheck.type === 'failure') problems.push(...describeCedarErrors(schemaPath, schemaText, schemaCheck.errors));

  const policies: Record<string, string> = {};
  const policyJson: Record<string, cedar.PolicyJson> = {};
  const sources: Record<string, string> = {};
  const offsets: Record<string, { file: string; text: string; offset: number }> = {};

  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cedar'))
    .sort();
  for (const name of files) {
    const file = join(dir, name);
    const text = readFileSync(file, 'utf8');
    const parsed = cedar.policySetTextToParts(text);
    if (parsed.type === 'failure') {
      problems.push(...describeCedarErrors(file, text, parsed.errors));
      continue;
    }
    if (parsed.policy_templates.length > 0) problems.push(`${file}: policy templates are not supported`);
    let searchFrom = 0;
    parsed.policies.forEach((policyText, index) => {
      const offset = Math.max(0, text.indexOf(policyText, searchFrom));
      searchFrom = offset + policyText.length;
      const where = `${relative(process.cwd(), file) || file}:${lineAndColumn(text, offset).line}`;
      const json = cedar.policyToJson(policyText);
      if (json.type === 'failure') {
        problems.push(...describeCedarErrors(file, text, json.errors, offset));
        return;
      }
      const annotations = json.json.annotations ?? {};
      const id = annotations.id ?? `${name.replace(/\.cedar$/, '')}#${index + 1}`;
      if (id in policies) {
        problems.push(`${where}: duplicate policy id "${id}" (also at ${sources[id]})`);
        return;
      }
      policies[id] = policyText;
      policyJson[id] = json.json;
      sources[id] = where;
      offsets[id] = { file, text, offset };
    });
  }

  return compileBundle(
    { schemaText, policies, defaultDeadlineSeconds: options.defaultDeadlineSeconds },
    {
      dir,
      sources,
      problems,
      parsed: policyJson,
      policyErrors: (id, errors) => {
        const at = offsets[id];
        return at ? describeCedarErrors(at.file, at.text, errors, at.offset) : errors.map((e) => `policy "${id}": ${e.message}`);
      },
      schemaErrors: (errors) => describeCedarErrors(schemaPath, schemaText, errors),
    },
  );
}

/**
 * What a policy bundle is made of: exactly what the plane reads from its policy directory and what an evidence pack
 * carries, so the plane and an auditor build the same bundle from the same texts.
 */
export interface PolicyTexts {
  schemaText: string;
  /** Policy id → the text of exactly one policy. */
  policies: Record<string, string>;
  /** Deadline of approval policies without `@deadline`. */
  defaultDeadlineSeconds: number;
}

/**
 * The bundle version: a digest over the schema and every policy text, pinned in each attempt's context and advice.
 * `digest` must compute `digestOf` (the auditor passes a node:crypto implementation of the same value).
 */
export function policyBundleVersion(
  texts: Pick<PolicyTexts, 'schemaText' | 'policies'>,
  digest: (value: unknown) => string = digestOf,
): string {
  return digest({ schema: texts.schemaText, policies: texts.policies });
}

/** Where texts came from, for messages; `describe…` turn Cedar diagnostics into "where: reason" lines. */
export interface PolicyOrigin {
  /** The directory (or another label, e.g. "(evidence pack)") named in messages and kept in the bundle. */
  dir: string;
  /** Where each policy starts, for messages; a policy without an entry is named by its id alone. */
  sources?: Record<string, string>;
  policyErrors?: (id: string, errors: readonly cedar.DetailedError[]) => string[];
  schemaErrors?: (errors: readonly cedar.DetailedError[]) => string[];
}

/**
 * Builds an evaluable bundle from policy texts, with the plane's rules: each policy's effect and approval requirement
 * from its annotations, strict validation against the schema, the version formula, per-action slices. The plane's
 * loader and the auditor's re-derivation (audit/pack/policy.ts) both build through this function. Throws a
 * `policy_invalid` EcpError listing every problem — fail closed.
 */
export function bundleFromTexts(texts: PolicyTexts, origin: PolicyOrigin): PolicyBundle {
  return compileBundle(texts, { ...origin, sources: origin.sources ?? {}, problems: [], parsed: {} });
}

interface CompileOrigin extends PolicyOrigin {
  sources: Record<string, string>;
  /** Problems the caller found already (files that do not parse, duplicate ids): reported together with these. */
  problems: readonly string[];
  /** Cedar JSON of policies the caller has parsed already (the loader needs it for ids), so none is parsed twice. */
  parsed: Record<string, cedar.PolicyJson>;
}

function compileBundle(texts: PolicyTexts, origin: CompileOrigin): PolicyBundle {
  const { dir, sources } = origin;
  const problems = [...origin.problems];
  const byId = (id: string, errors: readonly cedar.DetailedError[]) => errors.map((e) => `policy "${id}": ${e.message}`);
  const policyErrors = origin.policyErrors ?? byId;
  const where = (id: string) => (sources[id] ? `${sources[id]}: ` : '');
  const effects: Record<string, 'permit' | 'forbid'> = {};
  const requirements: Record<string, ApprovalRequirement> = {};
  const overridable: Record<string, ApprovalRequirement> = {};
  for (const [id, text] of Object.entries(texts.policies)) {
    let json = origin.parsed[id];
    if (!json) {
      const answer = cedar.policyToJson(text);
      if (answer.type === 'failure') {
        problems.push(...policyErrors(id, answer.errors));
        continue;
      }
      json = answer.json;
    }
    effects[id] = json.effect;
    const { requirement, problems: annotationProblems } = requirementFromAnnotations(
      id,
      json.effect,
      json.annotations ?? {},
      texts.defaultDeadlineSeconds,
    );
    problems.push(...annotationProblems.map((p) => `${where(id)}policy "${id}": ${p}`));
    if (requirement && json.effect === 'forbid') overridable[id] = requirement;
    else if (requirement) requirements[id] = requirement;
  }

  if (problems.length === 0) {
    const validation = cedar.validate({
      schema: texts.schemaText,
      policies: { staticPolicies: texts.policies },
      validationSettings: { mode: 'strict' },
    });
    if (validation.type === 'failure') {
      problems.push(...(origin.schemaErrors ?? ((errors) => errors.map((e) => `the schema: ${e.message}`)))(validation.errors));
    } else {
      for (const { policyId, error } of validation.validationErrors) problems.push(...policyErrors(policyId, [error]));
    }
  }
  if (problems.length > 0) {
    throw new EcpError('policy_invalid', `policy bundle ${dir} is invalid:\n  ${problems.join('\n  ')}`);
  }

  const version = policyBundleVersion(texts);
  const preparsed = cedar.preparsePolicySet(version, { staticPolicies: texts.policies });
  if (preparsed.type === 'failure') {
    throw new EcpError(
      'policy_invalid',
      `policy bundle ${dir} could not be prepared: ${preparsed.errors.map((e) => e.message).join('; ')}`,
    );
  }
  const bundle: PolicyBundle = {
    dir,
    version,
    schemaText: texts.schemaText,
    policies: texts.policies,
    effects,
    sources: Object.fromEntries(Object.keys(texts.policies).map((id) => [id, sources[id] ?? id])),
    requirements,
    overridable,
    approvalGroups: deciderGroups([...Object.values(requirements), ...Object.values(overridable)]),
    actions: schemaActions(texts.schemaText),
    defaultDeadlineSeconds: texts.defaultDeadlineSeconds,
  };
  // Index and preparse the per-action slices now, so the first attempt does not pay for it (policy/slices.ts).
  try {
    sliceIndexFor(bundle);
  } catch (err) {
    throw new EcpError('policy_invalid', `policy bundle ${dir} could not be prepared: ${(err as Error).message}`);
  }
  return bundle;
}

function deciderGroups(requirements: readonly ApprovalRequirement[]): string[] {
  const groups = requirements.flatMap((r) => [
    ...r.groups,
    ...(r.overrideBy ?? []),
    ...(r.ratify?.groups ?? []),
    ...(r.escalations ?? []).flatMap((e) => e.groups),
  ]);
  return [...new Set(groups)].sort();
}

function schemaActions(schemaText: string): string[] {
  const json = cedar.schemaToJson(schemaText);
  if (json.type === 'failure') return [];
  return Object.values(json.json).flatMap((ns) => Object.keys(ns.actions ?? {}));
}
