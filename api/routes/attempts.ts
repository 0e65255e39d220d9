import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { EcpClient } from '../../client/ecpClient';
import { proposalSummary, SummaryReader } from '../../client/summaries';
import type { ConsoleDeps, ConsoleEnv } from '../deps';
import { errorBodySchema } from '../errors';
import { EcpError } from '../../common/errors';
import { attemptView } from '../view';
import { EscalationMarks } from '../escalations';
import {
  attemptIdParamSchema,
  attemptListSchema,
  attemptQuerySchema,
  attemptViewSchema,
  decisionRequestSchema,
  decisionResultSchema,
} from '../schemas';

/** The log line's verb per verdict ("ratifyd" is not a word). */
const PAST = { approve: 'approved', reject: 'rejected', override: 'overrode', ratify: 'ratified' } as const;

const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [code, { description: 'error', content: { 'application/json': { schema: errorBodySchema } } }]));

const inbox = createRoute({
  method: 'get',
  path: '/api/inbox',
  tags: ['attempts'],
  summary: 'Attempts awaiting a decision that the signed-in human may decide, soonest deadline first',
  responses: { 200: { description: 'the inbox', content: { 'application/json': { schema: attemptListSchema } } }, ...errors(401, 503) },
});

const list = createRoute({
  method: 'get',
  path: '/api/attempts',
  tags: ['attempts'],
  summary: 'All attempts, newest first, filtered by status, agent and action type',
  request: { query: attemptQuerySchema },
  responses: { 200: { description: 'attempts', content: { 'application/json': { schema: attemptListSchema } } }, ...errors(400, 401, 503) },
});

const show = createRoute({
  method: 'get',
  path: '/api/attempts/{attemptId}',
  tags: ['attempts'],
  summary: 'The whole decision context of one attempt: its record, claims vs facts, whether you may decide',
  request: { params: attemptIdParamSchema },
  responses: {
    200: { description: 'the attempt', content: { 'application/json': { schema: attemptViewSchema } } },
    ...errors(400, 401, 404, 503),
  },
});

const decide = createRoute({
  method: 'post',
  path: '/api/attempts/{attemptId}/decisions',
  tags: ['attempts'],
  summary: "Submit a decision signed with the human's own key; the workflow verifies it",
  description:
    'The statement must name this attempt, the signed-in human and the proposal hash the attempt has now (409 `stale` otherwise). ' +
    'A reject needs a reason. A decision the workflow refuses answers 403 with `error.refusal` set to its refusal code; it is kept in the record.',
  request: { params: attemptIdParamSchema, body: { required: true, content: { 'application/json': { schema: decisionRequestSchema } } } },
  responses: {
    200: { description: 'the decision counted', content: { 'application/json': { schema: decisionResultSchema } } },
    ...errors(400, 401, 403, 404, 409, 503),
  },
});

export function registerAttemptRoutes(
  app: OpenAPIHono<ConsoleEnv>,
  deps: ConsoleDeps,
  summaries = new SummaryReader(),
  escalations = new EscalationMarks(),
): void {
  // A client bound to the current configuration, over the one connection (and data converter) the plane gave us.
  // The plane's listing-seal verifier comes along: every listed row is checked against the plane key.
  const ecp = () => new EcpClient(deps.ecp.client, deps.config(), deps.ecp.listingSeal);
  const now = () => (deps.now ?? Date.now)();

  app.openapi(inbox, async (c) => {
    const client = ecp();
    const pending = await client.listPending({ human: c.get('session').human });
    const attempts = await escalations.mark(client, await summaries.summarize(client, pending, deps.config()));
    return c.json({ count: attempts.length, attempts }, 200);
  });

  app.openapi(list, async (c) => {
    const { limit, ...filter } = c.req.valid('query');
    const client = ecp();
    const attempts = await escalations.mark(client, await client.listAttempts(filter, limit));
    return c.json({ count: attempts.length, attempts }, 200);
  });

  app.openapi(show, async (c) => {
    const record = await ecp().getRecord(c.req.valid('param').attemptId);
    // The summary is rendered at read time from the record's proposal and the current action type config.
    return c.json({ ...attemptView(record, c.get('session').human, now()), summary: proposalSummary(deps.config(), record.proposal) }, 200);
  });

  app.openapi(decide, async (c) => {
    const { attemptId } = c.req.valid('param');
    const decision = c.req.valid('json');
    const { statement } = decision;
    const human = c.get('session').human;
    if (statement.human !== human) {
      throw new EcpError(
        'forbidden',
        `the statement is made as "${statement.human}" but you are signed in as "${human}"`,
        'statement.human',
      );
    }
    if (statement.attemptId !== attemptId)
      throw new EcpError('invalid_input', `the statement names attempt ${statement.attemptId}, not ${attemptId}`, 'statement.attemptId');
    if (statement.verdict === 'reject' && statement.reason.trim() === '')
      throw new EcpError('invalid_input', 'a reject needs a reason', 'statement.reason');
    if (statement.verdict === 'override' && statement.reason.trim() === '')
      throw new EcpError('invalid_input', 'an override needs a justification', 'statement.reason');
    const record = await ecp().getRecord(attemptId);
    if (statement.proposalHash !== record.proposalHash) {
      throw new EcpError(
        'stale',
        `this page showed proposal ${statement.proposalHash}; the attempt's is ${record.proposalHash} — reload and review again`,
        'statement.proposalHash',
      );
    }
    const result = await ecp().submitDecision(attemptId, decision);
    if (!result.accepted) throw new EcpError('refused', result.message, undefined, result.code ?? undefined);
    if (deps.log) {
      // The update answers before the workflow acts on the decision (result.status is still AWAITING_DECISION):
      // log the status after it took effect, from a fresh read.
      const after = await ecp()
        .getRecord(attemptId)
        .then(
          (r) => r.status,
          () => result.status,
        );
      deps.log(`console: ${human} ${PAST[statement.verdict]} ${attemptId} (now ${after})`);
    }
    return c.json({ accepted: true as const, code: null, message: result.message, status: result.status }, 200);
  });
}
