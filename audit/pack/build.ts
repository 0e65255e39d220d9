import { readFileSync } from 'node:fs';
import type { DataConverter, LoadedDataConverter } from '@temporalio/common';
import { EcpError } from '../../common/errors';
import type { PinnedDirectory } from '../../common/directory';
import { parseRecord } from '../../common/record';
import { formatPath, plainIssue } from '../../common/validation';
import { findKeptPolicyBundles, findStoredPolicyBundles } from '../bundleStore';
import type { KeptStore } from '../store/kept';
import { bundleDigestFromBuildId, CLOSE_EVENTS, EVENT, eventsOf, historyBuildIds, historyWorkflowId } from '../history';
import { decodeFailure, decodeFirst, loadedConverter } from '../payloads';
import { historyJsonSchema, type EvidencePack, type HistoryJson, type PackCode, type PackPolicyBundle } from './schema';
import { sealPack } from './seal';

export interface BuildPackOptions {
  /** Decodes payloads (needed when the plane encrypts them); the pack keeps them as encoded either way. */
  dataConverter?: DataConverter | LoadedDataConverter;
  /** Bundles known to the exporter (e.g. the configured one); searched first. */
  policyBundles?: PackPolicyBundle[];
  /** Data dir whose `policy-bundles/` store holds every bundle version the plane has loaded. */
  dataDir?: string;
  /** The plane's store of kept versions (audit/store/; e.g. the shared PostgreSQL store); searched instead of `dataDir`. */
  kept?: KeptStore;
  exportedAt?: string;
}

/** ECP's package version, the first half of the code identity. */
export function ecpVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Validates a proto3-JSON history (e.g. `temporal workflow show --output json`); errors name the field. */
export function parseHistoryJson(input: unknown): HistoryJson {
  const result = historyJsonSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = formatPath(['history', ...(issue?.path ?? [])]);
  throw new EcpError('invalid_input', `invalid history: field "${path}" ${plainIssue(issue)}`, path);
}

/**
 * Builds an evidence pack from a closed attempt's full history in proto3 JSON (what `temporal workflow show --output
 * json` prints, or what `exportEvidencePack` fetches). Needs no server: the record is the history's completion
 * result, the directory is the one the record pins, the policy texts come from `policyBundles` or the data dir's
 * bundle store, the code identity from the worker build IDs in history.
 */
export async function packFromHistoryJson(input: unknown, options: BuildPackOptions = {}): Promise<EvidencePack> {
  const history = parseHistoryJson(input);
  const events = eventsOf(history);
  const last = events.at(-1)!;
  const workflowId = historyWorkflowId(history);
  const name = workflowId ?? 'the attempt';
  if (events[0]?.eventType !== EVENT.started)
    throw new EcpError('invalid_input', 'invalid history: the first event is not the workflow start', 'history.events[0]');
  if (!CLOSE_EVENTS.includes(last.eventType)) {
    throw new EcpError(
      'invalid_input',
      `${name} is still open; evidence packs are for closed attempts (wait for its outcome, or cancel it)`,
      'attempt',
    );
  }
  if (last.eventType !== EVENT.completed) {
    throw new EcpError(
      'invalid_input',
      `${name} closed as ${last.eventType.replace('EVENT_TYPE_WORKFLOW_EXECUTION_', '')} without an execution record; nothing to pack`,
      'attempt',
    );
  }
  let result: unknown;
  try {
    result = await decodeFirst(last.workflowExecutionCompletedEventAttributes?.result, loadedConverter(options.dataConverter));
  } catch (err) {
    throw new EcpError('invalid_input', `the completion result of ${name}: ${decodeFailure(err)}`, 'history');
  }
  // The pack's record must be exactly the completion result, so it is parsed (never defaulted or cast): a result that
  // is not an ECP execution record is refused, naming the field.
  const record = parseRecord(result, `execution record in the completion result of ${name}`);
  const attemptId = workflowId ?? record.attemptId;
  // A copy: the part must not alias the record's object (an edit to one would silently change the other).
  const directory: PinnedDirectory = structuredClone(record.context?.directory ?? { version: '', agent: null, humans: {} });
  const version = record.advice?.bundleVersion ?? record.context?.bundleVersion ?? null;
  const policyBundle = version ? await findPolicyBundle(version, options) : null;
  const buildIds = historyBuildIds(history);
  const code: PackCode = {
    ecpVersion: ecpVersion(),
    workflowBundleDigest: buildIds.length > 0 ? bundleDigestFromBuildId(buildIds.at(-1)!) : null,
    buildIds,
  };
  return sealPack(attemptId, options.exportedAt ?? new Date().toISOString(), {
    record,
    history,
    directory,
    policyBundle,
    code,
  });
}

async function findPolicyBundle(version: string, options: BuildPackOptions): Promise<PackPolicyBundle> {
  const known = (options.policyBundles ?? []).find((b) => b.version === version);
  if (known) return known;
  const stored = options.kept
    ? await findKeptPolicyBundles(options.kept, version)
    : options.dataDir
      ? findStoredPolicyBundles(options.dataDir, version)
      : [];
  if (stored[0]) return stored[0];
  const where = options.kept
    ? `the plane's store ${options.kept.location}`
    : options.dataDir
      ? `${options.dataDir}/policy-bundles/`
      : 'a bundle store (pass --data-dir)';
  throw new EcpError(
    'not_found',
    `policy bundle ${version} (the one the attempt pinned) is neither the configured bundle nor in ${where}; ` +
      'an evidence pack needs the exact policy texts',
    'policyBundle',
  );
}
