import { digestOf } from '../../common/canonical';
import { EVIDENCE_PACK_FORMAT, PACK_PARTS, type EvidencePack, type EvidencePackParts } from './schema';

/** The digest of every part, in the pack's fixed order. */
export function partDigests(parts: EvidencePackParts): EvidencePack['digests'] {
  return Object.fromEntries(PACK_PARTS.map((name) => [name, digestOf(parts[name])])) as EvidencePack['digests'];
}

/** The pack digest: binds format, attempt, export time and every part digest. */
export function packDigestOf(pack: Pick<EvidencePack, 'format' | 'attemptId' | 'exportedAt' | 'digests'>): string {
  return digestOf({ format: pack.format, attemptId: pack.attemptId, exportedAt: pack.exportedAt, digests: pack.digests });
}

/** Assembles a pack from its parts and computes every digest. */
export function sealPack(attemptId: string, exportedAt: string, parts: EvidencePackParts): EvidencePack {
  const digests = partDigests(parts);
  const body = { format: EVIDENCE_PACK_FORMAT, attemptId, exportedAt, digests } as const;
  return { ...body, parts, packDigest: packDigestOf(body) };
}
