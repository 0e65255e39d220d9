/**
 * Trust roots for evidence-pack verification. A pack carries its own pinned directory and code identity, but a forger
 * who controls the whole pack controls those too (a second plane with their own keys for "alice" produces a perfectly
 * consistent pack). Verification is only meaningful against a trust root from outside the pack: the plane's
 * configuration plus the directory versions and code identities it keeps in its data dir, or a file the auditor
 * supplies (`ecp audit verify --trust <file>`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { AttemptRecord } from '../../common';
import { canonicalJson, digestOf } from '../../common/canonical';
import { keyFingerprint } from '../../common/statement';
import { directorySchema, publicKeyHexSchema, type Directory, type PinnedDirectory } from '../../common/directory';
import { EcpError } from '../../common/errors';
import { agentIdSchema, digestSchema, groupIdSchema, humanIdSchema } from '../../common/proposal';
import { formatPath, plainIssue } from '../../common/validation';
import type { PlaneConfig } from '../../config/load';
import { bundleDigestFromBuildId } from '../history';
import {
  codeIdentityStoreDir,
  directoryStoreDir,
  keptCodeIdentities,
  keptDirectoryVersions,
  loadCodeIdentities,
  loadDirectoryVersions,
} from '../trustStore';
import { LocalKeptStore, type KeptStore } from '../store/kept';
import type { CheckResult } from './verifyAuthority';
import type { EvidencePack } from './schema';

/** Format id of an auditor-supplied trust file. */
export const TRUST_FILE_FORMAT = 'ecp.trust.v1';

/**
 * An auditor-supplied trust file (`--trust <file>`, JSON or YAML). `humans` / `agents` are trusted regardless of the
 * directory version a pack pins; each of `directories` is a whole directory (the format of ecp.yaml's directory file)
 * trusted under its version digest; `code.workflowBundleDigests` are trusted workflow code identities in addition to
 * the verifier's local workflow code.
 */
export const trustFileSchema = z.strictObject({
  format: z.literal(TRUST_FILE_FORMAT, { message: `must be "${TRUST_FILE_FORMAT}"` }),
  humans: z
    .record(
      humanIdSchema,
      z.strictObject({
        groups: z.array(groupIdSchema).default([]),
        publicKeys: z.array(publicKeyHexSchema).min(1, 'needs at least one public key'),
      }),
    )
    .default({}),
  agents: z.record(agentIdSchema, z.strictObject({ owner: humanIdSchema })).default({}),
  directories: z.array(directorySchema).default([]),
  code: z.strictObject({ workflowBundleDigests: z.array(digestSchema).default([]) }).default({ workflowBundleDigests: [] }),
});
export type TrustFile = z.output<typeof trustFileSchema>;

/** What a pack is checked against. Build one with `planeTrustRoot` or `trustRootFromFile`. */
export interface TrustRoot {
  kind: 'plane' | 'file';
  /** Says where the trust comes from, for the verifier's output. */
  source: string;
  /** Whole trusted directories by version digest. */
  directories: ReadonlyMap<string, Directory>;
  /** The version of the plane's configured directory (used to name what differs in an untrusted version). */
  current?: string;
  /** Version-independent humans and agents (a trust file's `humans` / `agents`); null for the plane's trust root. */
  keys: { humans: TrustFile['humans']; agents: TrustFile['agents'] } | null;
  /** Trusted workflow code digests (the verifier's local workflow code is trusted in addition). */
  codeDigests: ReadonlySet<string>;
}

/** The trust root as reported (`--json` carries it). */
export interface TrustRootSummary {
  kind: TrustRoot['kind'];
  source: string;
  directoryVersions: string[];
  humans: string[];
  codeDigests: string[];
}

export function summarizeTrustRoot(trust: TrustRoot): TrustRootSummary {
  return {
    kind: trust.kind,
    source: trust.source,
    directoryVersions: [...trust.directories.keys()].sort(),
    humans: Object.keys(trust.keys?.humans ?? {}).sort(),
    codeDigests: [...trust.codeDigests].sort(),
  };
}

/**
 * The plane's trust root: the directory of its current configuration, every directory version it kept in
 * `<dataDir>/directories/`, and every code identity it kept in `<dataDir>/code-identities/`.
 */
export function planeTrustRoot(config: Pick<PlaneConfig, 'file' | 'directory' | 'directoryVersion'>, dataDir: string): TrustRoot {
  return trustRootOf(config, loadDirectoryVersions(dataDir), loadCodeIdentities(dataDir), {
    directories: directoryStoreDir(dataDir),
    code: codeIdentityStoreDir(dataDir),
  });
}

/**
 * `planeTrustRoot` over the plane's stores (audit/store/): with a shared store, every directory version and code
 * identity any worker of the plane kept, whichever machine the auditor verifies on. Reads only; safe to repeat.
 */
export async function planeTrustRootFrom(
  config: Pick<PlaneConfig, 'file' | 'directory' | 'directoryVersion'>,
  kept: KeptStore,
): Promise<TrustRoot> {
  const local = kept instanceof LocalKeptStore;
  return trustRootOf(config, await keptDirectoryVersions(kept), await keptCodeIdentities(kept), {
    directories: local ? kept.folder('directories') : kept.location,
    code: local ? kept.folder('code-identities') : kept.location,
  });
}

function trustRootOf(
  config: Pick<PlaneConfig, 'file' | 'directory' | 'directoryVersion'>,
  keptDirectories: Map<string, Directory>,
  codeDigests: Set<string>,
  where: { directories: string; code: string },
): TrustRoot {
  const directories = new Map(keptDirectories);
  const kept = directories.size;
  directories.set(config.directoryVersion, config.directory);
  return {
    kind: 'plane',
    source: `plane configuration ${config.file} + ${kept} kept directory version(s) in ${where.directories} + ${codeDigests.size} kept code identit${codeDigests.size === 1 ? 'y' : 'ies'} in ${where.code}`,
    directories,
    current: config.directoryVersion,
    keys: null,
    codeDigests,
  };
}

/** Validates a parsed trust file; the error names the field and the reason. */
export function parseTrustFile(input: unknown, source = 'trust file'): TrustFile {
  const result = trustFileSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = formatPath(issue?.path ?? []);
  throw new EcpError('invalid_input', `${source}: ${path ? `field "${path}" ` : ''}${plainIssue(issue)}`, path || undefined);
}

/** Reads and validates an auditor-supplied trust file (JSON or YAML). */
export function trustRootFromFile(path: string): TrustRoot {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EcpError('not_found', `cannot read trust file ${path}: ${(err as Error).message}`, 'trust');
  }
  let raw: unknown;
  try {
    // Duplicate keys are refused: a trust file must say one thing.
    raw = parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new EcpError('invalid_input', `trust file ${path} is neither JSON nor YAML: ${(err as Error).message}`, 'trust');
  }
  return trustRootFromParsed(parseTrustFile(raw, `trust file ${path}`), `trust file ${path}`);
}

/** A trust root from an already validated trust file. */
export function trustRootFromParsed(file: TrustFile, source: string): TrustRoot {
  const directories = new Map<string, Directory>();
  for (const directory of file.directories) directories.set(digestOf(directory), directory);
  // A file with only whole directories trusts exactly those versions, like the plane's root.
  const keys = Object.keys(file.humans).length + Object.keys(file.agents).length > 0 ? { humans: file.humans, agents: file.agents } : null;
  return { kind: 'file', source, directories, keys, codeDigests: new Set(file.code.workflowBundleDigests) };
}

const sorted = (values: readonly string[]) => [...values].sort();
const fp = (key: string) => {
  try {
    return keyFingerprint(key);
  } catch {
    return key.slice(0, 16);
  }
};

/**
 * `trust.directory`: the pinned directory slice against the trust root. Against a trusted directory version (the one
 * the pack pins, found in the plane's kept versions or the trust file's directories) every human in the slice must
 * have exactly those groups and keys there, and the agent exactly that owner. Otherwise, against a trust file's
 * humans/agents: each accepted decision's signing key and the decider's groups, and the agent's owner. Anything else
 * fails as `directory_untrusted`, naming what is untrusted.
 */
export function trustDirectoryCheck(pack: EvidencePack, trust: TrustRoot): CheckResult {
  const name = 'trust.directory';
  const record = pack.parts.record;
  const slice = pack.parts.directory;
  const accepted = record.decisions?.accepted ?? [];
  const agentId = record.proposal?.agent;
  const problems: string[] = [];
  const trusted = trust.directories.get(slice.version);
  if (trusted) {
    const where = `trusted directory version ${slice.version}`;
    problems.push(...sliceProblems(slice, record, trusted, where));
    if (problems.length === 0)
      return {
        name,
        ok: true,
        detail: `the pinned directory slice (${Object.keys(slice.humans).length} humans, agent ${slice.agent?.id ?? 'none'}) is exactly as in ${where}`,
      };
  } else if (trust.keys) {
    const where = trust.source;
    for (const d of accepted) {
      const real = trust.keys.humans[d.human];
      const pinned = slice.humans[d.human];
      if (!real) {
        problems.push(`human "${d.human}" (who decided) is not in ${where}`);
        continue;
      }
      const signingKey = pinned?.publicKeys.find((k) => fp(k) === d.keyFingerprint);
      if (!signingKey || !real.publicKeys.includes(signingKey))
        problems.push(`human "${d.human}" key ${d.keyFingerprint} is not registered to ${d.human} in ${where}`);
      const extra = (pinned?.groups ?? []).filter((g) => !real.groups.includes(g));
      if (extra.length > 0) problems.push(`human "${d.human}" is not in group(s) [${extra.join(', ')}] in ${where}`);
    }
    if (slice.agent && slice.agent.id !== agentId)
      problems.push(`the pack pins agent "${slice.agent.id}", the proposal's agent is "${agentId}"`);
    if (accepted.length > 0) {
      const realAgent = agentId ? trust.keys.agents[agentId] : undefined;
      if (!realAgent) problems.push(`the owner of agent "${agentId ?? '?'}" is not in ${where} (separation of duties needs it)`);
      else if (slice.agent?.owner !== realAgent.owner)
        problems.push(
          `agent "${agentId}" is owned by "${slice.agent?.owner ?? 'nobody'}" in the pack but by "${realAgent.owner}" in ${where}`,
        );
    }
    if (problems.length === 0)
      return {
        name,
        ok: true,
        detail: `every decider's signing key and groups${accepted.length > 0 ? " and the agent's owner" : ''} are as in ${where} (directory version ${slice.version || 'none'} itself is not in it)`,
      };
  } else {
    problems.push(`directory version ${slice.version || '(none)'} is not a trusted directory version (${trust.source})`);
    // Name what differs from the directory in force, so the auditor sees which keys or owners are foreign.
    const current = trust.current ? trust.directories.get(trust.current) : undefined;
    if (current) problems.push(...sliceProblems(slice, record, current, `the plane's current directory version ${trust.current}`));
  }
  return { name, ok: false, detail: `directory_untrusted: ${problems.join('; ')}` };
}

/** How a pinned slice differs from a trusted directory: foreign keys, groups, humans and agent owners. */
function sliceProblems(slice: PinnedDirectory, record: AttemptRecord, trusted: Directory, where: string): string[] {
  const problems: string[] = [];
  const agentId = record.proposal?.agent;
  for (const [id, human] of Object.entries(slice.humans)) {
    const real = trusted.humans[id];
    if (!real) {
      problems.push(`human "${id}" is not in ${where}`);
      continue;
    }
    for (const key of human.publicKeys)
      if (!real.publicKeys.includes(key)) problems.push(`human "${id}" key ${fp(key)} is not registered to ${id} in ${where}`);
    if (canonicalJson(sorted(human.groups)) !== canonicalJson(sorted(real.groups)))
      problems.push(`human "${id}" is in groups [${human.groups.join(', ')}] in the pack but [${real.groups.join(', ')}] in ${where}`);
  }
  if (slice.agent) {
    const real = trusted.agents[slice.agent.id];
    if (!real) problems.push(`agent "${slice.agent.id}" is not in ${where}`);
    else if (slice.agent.owner !== real.owner)
      problems.push(`agent "${slice.agent.id}" is owned by "${slice.agent.owner}" in the pack but by "${real.owner}" in ${where}`);
    if (agentId !== undefined && slice.agent.id !== agentId)
      problems.push(`the pack pins agent "${slice.agent.id}", the proposal's agent is "${agentId}"`);
  } else if (agentId && trusted.agents[agentId]) {
    problems.push(`the pack pins no agent, but "${agentId}" is an agent (owner "${trusted.agents[agentId].owner}") in ${where}`);
  }
  for (const d of record.decisions?.accepted ?? [])
    if (!slice.humans[d.human]) problems.push(`decider "${d.human}" is not in the pinned slice`);
  return problems;
}

/**
 * `trust.code`: every workflow code identity the history names (its worker build IDs) is in the trust root or is the
 * verifier's local workflow code — the code the replay runs, which the auditor installed and so trusts.
 */
export function trustCodeCheck(pack: EvidencePack, trust: TrustRoot, localDigest: string): CheckResult {
  const name = 'trust.code';
  const ids = pack.parts.code.buildIds;
  if (ids.length === 0) return { name, ok: false, detail: 'code_untrusted: the history names no workflow code identity' };
  const problems: string[] = [];
  for (const id of ids) {
    const digest = bundleDigestFromBuildId(id);
    if (!digest) problems.push(`build ID "${id}" names no workflow code digest`);
    else if (digest !== localDigest && !trust.codeDigests.has(digest))
      problems.push(
        `workflow code ${digest} (build ID "${id}") is neither a code identity of the trust root (${trust.source}) nor the local workflow code ${localDigest}`,
      );
  }
  return problems.length === 0
    ? { name, ok: true, detail: `the history's workflow code (${ids.join(', ')}) is trusted` }
    : { name, ok: false, detail: `code_untrusted: ${problems.join('; ')}` };
}
