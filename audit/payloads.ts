import { JSONToPayload, type JSONPayload } from '@temporalio/common/lib/proto-utils';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/data-converter-helpers';
import { decode } from '@temporalio/common/lib/internal-non-workflow/codec-helpers';
import type { DataConverter, LoadedDataConverter, Payload } from '@temporalio/common';

export type { JSONPayload };

/** A data converter for reading history payloads: the default (plain JSON) unless a codec-carrying one is given. */
export function loadedConverter(dataConverter?: DataConverter | LoadedDataConverter): LoadedDataConverter {
  if (dataConverter && 'payloadConverter' in dataConverter && 'failureConverter' in dataConverter) return dataConverter;
  return loadDataConverter(dataConverter as DataConverter | undefined);
}

/**
 * Decodes one payload of a proto3-JSON history (base64 metadata and data) into a value: the codecs run first (e.g.
 * AES-GCM decryption), then the payload converter. The history itself is never changed.
 */
export async function decodeJsonPayload<T = unknown>(json: JSONPayload | undefined | null, converter: LoadedDataConverter): Promise<T> {
  if (!json) throw new Error('no payload');
  const [payload] = await decode(converter.payloadCodecs, [JSONToPayload(json) as Payload]);
  return converter.payloadConverter.fromPayload<T>(payload!);
}

/** Decodes the first payload of a `{ payloads: [...] }` list, as found in history event attributes. */
export function decodeFirst<T = unknown>(
  list: { payloads?: JSONPayload[] | null } | undefined | null,
  converter: LoadedDataConverter,
): Promise<T> {
  return decodeJsonPayload<T>(list?.payloads?.[0], converter);
}

/** A short explanation for a payload that could not be decoded (usually: encrypted and no key given). */
export function decodeFailure(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  return `cannot decode the payload (${message}); if the plane encrypts payloads, pass its payload codec`;
}
