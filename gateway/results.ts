import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { FailureType } from '../common/errors';
import type { RecordView } from './recordView';

/** `_meta` keys the gateway adds to every result it answers, so an agent (or its client) can follow up. */
export const META_ATTEMPT_ID = 'ecp/attemptId';
export const META_STATUS = 'ecp/status';

/** Where a human decides an attempt: the console's attempt page. */
export function consoleLink(consoleUrl: string, attemptId: string): string {
  return `${consoleUrl.replace(/\/+$/, '')}/attempts/${attemptId}`;
}

/** Plain text result: the form every gateway answer other than a downstream result takes. */
function text(record: RecordView, body: string, isError: boolean): CallToolResult {
  return {
    content: [{ type: 'text', text: body }],
    isError,
    _meta: { [META_ATTEMPT_ID]: record.attemptId, [META_STATUS]: record.status },
  };
}

/** Who still has to decide, e.g. "finance (0/1)"; several requirements joined by "and". */
export function awaitingSummary(record: RecordView): string {
  const open = record.requirements.filter((r) => !r.met);
  const list = open.length > 0 ? open : record.requirements;
  return list.map((r) => `${r.groups.join(' or ')} (${r.approvedBy.length}/${r.quorum})`).join(' and ') || 'a human';
}

/** The message a held call's progress notifications carry. */
export function progressMessage(record: RecordView): string {
  if (record.status !== 'AWAITING_DECISION') return `attempt ${record.attemptId} is ${record.status.toLowerCase()}`;
  return `awaiting approval from ${awaitingSummary(record)}, deadline ${record.deadline ?? 'none'} (attempt ${record.attemptId})`;
}

/** The non-error answer for a call still awaiting a human when the hold time ends. Never reads like a refusal. */
export function pendingResult(record: RecordView, consoleUrl: string): CallToolResult {
  return text(
    record,
    `This call is pending human approval; it has not run yet and it has not been refused. ` +
      `It is awaiting approval from ${awaitingSummary(record)} until ${record.deadline ?? 'no deadline'}. ` +
      `Attempt ID: ${record.attemptId}. A human can decide it at ${consoleLink(consoleUrl, record.attemptId)}. ` +
      `To learn the outcome later, call the tool ecp_attempt_status with {"attemptId":"${record.attemptId}"}; ` +
      `calling this tool again with the same arguments also returns this attempt's outcome and never runs it twice.`,
    false,
  );
}

/**
 * The answer for an attempt in any state: a closed attempt's outcome (the downstream result itself on SUCCEEDED),
 * the pending answer while it awaits a decision, or "in progress" while it is evaluated or executed.
 */
export function resultForRecord(record: RecordView, consoleUrl: string): CallToolResult {
  const id = record.attemptId;
  switch (record.status) {
    case 'SUCCEEDED':
      return downstreamResult(record);
    case 'FAILED': {
      const error = record.outcome && !record.outcome.ok ? record.outcome.error : { type: 'Unknown', message: 'no outcome recorded' };
      // The tool itself answered with an error: its own words, as a direct call would have shown them.
      if (error.type === FailureType.McpToolError)
        return text(record, `The tool answered with an error: ${error.message} (attempt ${id})`, true);
      return text(record, `The tool call was allowed but failed: ${error.type}: ${error.message} (attempt ${id}).`, true);
    }
    case 'DENIED': {
      const reasons = denialReasons(record);
      return text(
        record,
        `Denied by policy: this call was not allowed and did not run. Reasons: ${reasons}. (attempt ${id}) ` +
          `Calling it again with the same arguments will be denied again.`,
        true,
      );
    }
    case 'REJECTED': {
      const rejection = record.decisions.accepted.find((d) => d.verdict === 'reject');
      const who = rejection ? ` by ${rejection.human}${rejection.reason ? `: "${rejection.reason}"` : ''}` : '';
      return text(record, `A human rejected this call${who}. It did not run. (attempt ${id})`, true);
    }
    case 'EXPIRED':
      return text(
        record,
        `No human decided this call before its deadline (${record.deadline ?? 'unknown'}), so it expired and did not run. ` +
          `This is not a denial: nobody refused it, and a new call may be approved. (attempt ${id})`,
        true,
      );
    case 'CANCELLED':
      return text(record, `This call was cancelled before it ran; it did not run. (attempt ${id})`, true);
    case 'AWAITING_DECISION':
      return pendingResult(record, consoleUrl);
    default:
      return text(
        record,
        `This call is in progress (status ${record.status}); it has not finished yet. Attempt ID: ${id}. ` +
          `Call ecp_attempt_status with {"attemptId":"${id}"} to learn the outcome.`,
        false,
      );
  }
}

/** The policy's reasons, or the re-check's reason when the enforcement blocked a run. */
function denialReasons(record: RecordView): string {
  const reasons = [...(record.advice?.reasons ?? []), ...(record.context?.problems ?? [])];
  if (record.enforcement?.blockedReason) reasons.push(record.enforcement.blockedReason);
  return reasons.length > 0 ? reasons.join('; ') : 'no policy permits this call';
}

/**
 * A SUCCEEDED attempt's downstream CallToolResult as the server answered it, with the attempt ID added to `_meta`.
 * An outcome that is not a CallToolResult (not an object with a `content` array) is returned as JSON text.
 */
function downstreamResult(record: RecordView): CallToolResult {
  const result = record.outcome?.ok ? record.outcome.result : null;
  if (result && typeof result === 'object' && !Array.isArray(result) && Array.isArray(result.content)) {
    const meta = result._meta && typeof result._meta === 'object' && !Array.isArray(result._meta) ? result._meta : {};
    return { ...(result as CallToolResult), _meta: { ...meta, [META_ATTEMPT_ID]: record.attemptId, [META_STATUS]: record.status } };
  }
  return text(record, JSON.stringify(result), false);
}
