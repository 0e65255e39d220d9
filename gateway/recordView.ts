import { z } from 'zod';
import { lazySchema } from '../common/lazySchema';
import { jsonValueSchema } from '../common/proposal';
import { ATTEMPT_STATUSES } from '../common/status';
import { parseOrThrow } from '../common/validation';

/**
 * The part of an attempt's record the gateway answers from (results.ts): status, outcome, the reasons and
 * requirements it quotes. A closed attempt's result is parsed with this rather than the whole record schema
 * (`parseRecord`, which also checks the pinned directory, decisions' signatures' shape, timeline …): the gateway reads
 * none of that, and the full parse was about a millisecond of every call's answer. Still parsed, not trusted: a field
 * the answer uses that is missing or of the wrong type is an `invalid_input` error naming it. Unknown keys are
 * dropped; `outcome.result` (the downstream answer returned to the agent) is kept whole, as any JSON.
 */
export const recordViewSchema = lazySchema('gateway.recordView', () =>
  z.object({
    attemptId: z.string().min(1),
    status: z.enum(ATTEMPT_STATUSES),
    deadline: z.string().nullable(),
    context: z.object({ problems: z.array(z.string()) }).nullable(),
    advice: z.object({ reasons: z.array(z.string()) }).nullable(),
    requirements: z.array(z.object({ groups: z.array(z.string()), quorum: z.number(), approvedBy: z.array(z.string()), met: z.boolean() })),
    decisions: z.object({ accepted: z.array(z.object({ human: z.string(), verdict: z.string(), reason: z.string() })) }),
    enforcement: z.object({ blockedReason: z.string().nullable() }).nullable(),
    outcome: z
      .discriminatedUnion('ok', [
        z.object({ ok: z.literal(true), result: jsonValueSchema }),
        z.object({ ok: z.literal(false), error: z.object({ type: z.string(), message: z.string() }) }),
      ])
      .nullable(),
  }),
);

/** What the gateway reads of a record; a full `AttemptRecord` (e.g. from `EcpClient.getRecord`) is one too. */
export type RecordView = z.output<typeof recordViewSchema>;

/** Parses a closed attempt's workflow result for the gateway's answer; throws an `invalid_input` EcpError naming the field. */
export function parseRecordView(input: unknown, what: string): RecordView {
  return parseOrThrow(recordViewSchema, input, what);
}
