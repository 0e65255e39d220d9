import { z } from 'zod';
import { pinnedDirectorySchema } from '../../common/directory';
import { digestSchema } from '../../common/proposal';
import { recordSchemas } from '../../common/record';

/** Format id of an evidence pack; a change to the layout gets a new id, never a silent reinterpretation. */
export const EVIDENCE_PACK_FORMAT = 'ecp.evidence-pack.v1';

/**
 * The policy bundle that produced the advice: Cedar schema and policies exactly as the plane loaded them (policy id →
 * policy text). `version` is the digest the plane pins in history (`digestOf({ schema, policies })`);
 * `defaultDeadlineSeconds` is the configured deadline for approval policies without `@deadline`, needed to re-evaluate.
 */
export const packPolicyBundleSchema = z.strictObject({
  version: digestSchema,
  schemaText: z.string(),
  policies: z.record(z.string(), z.string()),
  defaultDeadlineSeconds: z.number().int().positive(),
});
export type PackPolicyBundle = z.output<typeof packPolicyBundleSchema>;

/**
 * Identity of the workflow code that produced the history. The plane's worker runs with build ID
 * `ecp@<version>+<hex>` (see workflows/bundle.ts), where hex is SHA-256 of the workflow bundle without its source
 * map; Temporal records the build ID in every workflow task event, so the history itself names the code that wrote it.
 * `buildIds` are all distinct build IDs in history (more than one if workers were upgraded mid-attempt);
 * `workflowBundleDigest` is the digest from the last one (null for a build ID without a digest).
 */
export const packCodeSchema = z.strictObject({
  ecpVersion: z.string().min(1),
  workflowBundleDigest: digestSchema.nullable(),
  buildIds: z.array(z.string()),
});
export type PackCode = z.output<typeof packCodeSchema>;

/** A history in proto3 JSON, as `temporal workflow show --output json` prints it. Payloads stay as encoded. */
export const historyJsonSchema = z.looseObject({
  events: z
    .array(z.looseObject({ eventId: z.union([z.string(), z.number()]), eventType: z.string() }))
    .min(1, 'must hold at least one event'),
});
export type HistoryJson = z.output<typeof historyJsonSchema>;

export const PACK_PARTS = ['record', 'history', 'directory', 'policyBundle', 'code'] as const;
export type PackPart = (typeof PACK_PARTS)[number];

export const evidencePackSchema = z.strictObject({
  format: z.literal(EVIDENCE_PACK_FORMAT),
  attemptId: z.string().min(1).max(100),
  exportedAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }),
  parts: z.strictObject({
    /** The final execution record as decoded from the workflow's completion result (the record schema, common/record.ts). */
    record: recordSchemas().attemptRecord,
    history: historyJsonSchema,
    /** The directory slice the record pins (the attempt's agent and the humans who could decide, with their keys). */
    directory: pinnedDirectorySchema(),
    /** Null only when the record pins no bundle version (cancelled before any evaluation). */
    policyBundle: packPolicyBundleSchema.nullable(),
    code: packCodeSchema,
  }),
  /** `digestOf(part)` for every part. */
  digests: z.strictObject({
    record: digestSchema,
    history: digestSchema,
    directory: digestSchema,
    policyBundle: digestSchema,
    code: digestSchema,
  }),
  /** `digestOf({ format, attemptId, exportedAt, digests })`: one value that names the whole pack. */
  packDigest: digestSchema,
});
export type EvidencePack = z.output<typeof evidencePackSchema>;
export type EvidencePackParts = EvidencePack['parts'];
