import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { readControls, sendControl } from '../../client/controls';
import { EcpError } from '../../common/errors';
import { describeScope, signedFreezeSchema } from '../../common/freeze';
import type { ConsoleDeps, ConsoleEnv } from '../deps';
import { errorBodySchema } from '../errors';

const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((code) => [code, { description: 'error', content: { 'application/json': { schema: errorBodySchema } } }]));

const scopeSchema = z.object({ kind: z.string(), agent: z.string().optional(), actionType: z.string().optional() });
const freezeEntrySchema = z
  .object({ seq: z.number().int(), scope: scopeSchema, reason: z.string(), human: z.string(), at: z.string(), key: z.string() })
  .openapi('Freeze');
const logEntrySchema = freezeEntrySchema.extend({ op: z.enum(['freeze', 'unfreeze']) }).openapi('FreezeLogEntry');

export const freezesViewSchema = z
  .object({
    freezeGroup: z.string().openapi({ description: 'the directory group whose humans may sign freezes and unfreezes' }),
    mayFreeze: z.boolean().openapi({ description: 'advisory: whether the signed-in human is in the freeze group' }),
    freezes: z.array(freezeEntrySchema).openapi({ description: 'the freezes in force' }),
    log: z.array(logEntrySchema).openapi({ description: 'the latest freeze log entries, newest last' }),
    seq: z.number().int(),
  })
  .openapi('Freezes');

/** The shared schema itself (common/freeze.ts), so the API accepts exactly what the controls workflow verifies. */
export const freezeRequestSchema = signedFreezeSchema.describe(
  'a freeze or unfreeze statement signed with the human\'s Ed25519 key over "ecp.freeze.v1:" + RFC 8785 canonical JSON of the statement',
);

const list = createRoute({
  method: 'get',
  path: '/api/freezes',
  tags: ['kill switch'],
  summary: 'The freezes in force and the recent freeze log (who, when, why, scope)',
  responses: {
    200: { description: 'the freezes', content: { 'application/json': { schema: freezesViewSchema } } },
    ...errors(401, 403, 404, 503),
  },
});

const send = createRoute({
  method: 'post',
  path: '/api/freezes',
  tags: ['kill switch'],
  summary: "Freeze or unfreeze a scope with a statement signed by the human's own key; the controls workflow verifies it",
  description:
    'The statement must be made as the signed-in human. The controls workflow refuses (403 `refused`, with the reason) a ' +
    'signer outside the freeze group, a bad signature, a replayed or stale statement, a scope already frozen (freeze) or not ' +
    'frozen (unfreeze); the refusal is in the freeze log all the same. Not retried: each statement is taken at most once.',
  request: { body: { required: true, content: { 'application/json': { schema: freezeRequestSchema } } } },
  responses: {
    200: { description: 'the accepted freeze log entry', content: { 'application/json': { schema: logEntrySchema } } },
    ...errors(400, 401, 403, 404, 503),
  },
});

/**
 * The kill switch in the console: list freezes, and relay freezes and unfreezes the browser signed. The API never
 * signs: the key stays in the browser; the controls workflow checks the signature and the freeze group.
 */
export function registerFreezeRoutes(app: OpenAPIHono<ConsoleEnv>, deps: ConsoleDeps): void {
  // Fail closed and say why when the plane has no kill switch: there is no controls workflow to ask.
  const freezeGroup = () => {
    const controls = deps.config().controls;
    if (!controls) throw new EcpError('not_found', 'the kill switch is not configured on this plane (ecp.yaml controls: freezeGroup)');
    return controls.freezeGroup;
  };

  app.openapi(list, async (c) => {
    const group = freezeGroup();
    const human = c.get('session').human;
    const state = await readControls(deps.ecp.client);
    const mayFreeze = deps.config().directory.humans[human]?.groups.includes(group) ?? false;
    return c.json({ freezeGroup: group, mayFreeze, ...state }, 200);
  });

  app.openapi(send, async (c) => {
    freezeGroup();
    const signed = c.req.valid('json');
    const human = c.get('session').human;
    if (signed.statement.human !== human) {
      throw new EcpError(
        'forbidden',
        `the statement is made as "${signed.statement.human}" but you are signed in as "${human}"`,
        'statement.human',
      );
    }
    const entry = await sendControl(deps.ecp.client, signed);
    deps.log?.(
      `console: ${human} ${entry.op === 'freeze' ? 'froze' : 'unfroze'} ${describeScope(entry.scope)} (freeze log entry ${entry.seq})`,
    );
    return c.json(entry, 200);
  });
}
