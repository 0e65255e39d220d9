import { Agent, RunContext, Runner, Usage, type AgentInputItem, type Model, type ModelRequest, type ModelResponse } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { governedAgentStatusTool, governedAgentTool } from '../../adapters/openaiAgents';
import { idempotencyKeyFor } from '../../adapters/idempotency';
import { attemptIdFor } from '../../common';
import { startTestPlane, type TestPlane } from '../helpers/plane';

/**
 * A scripted model behind the Agents SDK's own `Model` interface (no network): its first turn calls `refund` with
 * `args`; on the next it finds the function call's result in its input, keeps it in `seen`, and answers with text.
 */
class ScriptedModel implements Model {
  readonly seen: string[] = [];
  constructor(
    readonly callId: string,
    readonly args: object,
  ) {}

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const items = (typeof request.input === 'string' ? [] : request.input) as AgentInputItem[];
    const result = items.find((i) => i.type === 'function_call_result');
    if (!result) {
      return {
        usage: new Usage(),
        output: [{ type: 'function_call', callId: this.callId, name: 'refund', arguments: JSON.stringify(this.args), status: 'completed' }],
      };
    }
    // A string tool output reaches the model as one text part.
    const output = result.output;
    this.seen.push(typeof output === 'string' ? output : 'type' in output && output.type === 'text' ? output.text : JSON.stringify(output));
    return {
      usage: new Usage(),
      output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Told the customer.' }] }],
    };
  }

  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('the scripted model does not stream');
  }
}

const refundParameters = z.object({ orderId: z.string(), amount: z.number().int(), reason: z.string() });

describe('governedAgentTool (OpenAI Agents SDK) against the real plane', () => {
  let plane: TestPlane;
  // No tracing export: the tests reach nothing but the local plane.
  const runner = new Runner({ tracingDisabled: true });
  beforeAll(async () => {
    plane = await startTestPlane();
  });
  afterAll(async () => {
    await plane?.teardown();
  });

  const agentWith = (model: ScriptedModel, holdTime = '20s') =>
    new Agent({
      name: 'support',
      instructions: 'Refund customers when asked.',
      model,
      tools: [
        governedAgentTool({
          ecp: plane.ecp,
          agent: 'refund-bot',
          actionType: 'payments.refund',
          name: 'refund',
          description: 'Refund part of an order (amount in cents)',
          parameters: refundParameters,
          resource: (input) => input.orderId,
          justification: (input) => `Customer asked: ${input.reason}`,
          holdTime,
          consoleUrl: 'http://console.test',
        }),
      ],
    });

  const refundsOf = (orderId: string) =>
    plane.target.effects.filter((e) => e.kind === 'refund' && (e.body as { orderId: string }).orderId === orderId);

  it('a small refund is allowed: the model receives the executor result and the target saw exactly one refund', async () => {
    const model = new ScriptedModel('oa-call-small', { orderId: 'order-1001', amount: 1500, reason: 'damaged' });
    const result = await runner.run(agentWith(model), 'Refund 15 EUR on order-1001, it arrived damaged.');
    expect(result.finalOutput).toBe('Told the customer.');
    expect(model.seen).toHaveLength(1);
    expect(JSON.parse(model.seen[0]!)).toMatchObject({
      status: 201,
      body: { orderId: 'order-1001', amount: 1500, refundId: expect.any(String) },
    });
    expect(refundsOf('order-1001')).toHaveLength(1);
  });

  it('a large refund answers "pending" after the hold time, then runs once when approved with a signed decision', async () => {
    const model = new ScriptedModel('oa-call-large', { orderId: 'order-1003', amount: 20_000, reason: 'never arrived' });
    const result = await runner.run(agentWith(model, '1s'), 'Refund 200 EUR on order-1003.');
    expect(result.finalOutput).toBe('Told the customer.');
    const text = model.seen[0]!;
    expect(text).toMatch(/^PENDING HUMAN APPROVAL/);
    const attemptId = /att-[0-9a-f]{32}/.exec(text)![0];
    expect(text).toContain(`http://console.test/attempts/${attemptId}`);
    // The documented key: from the framework's tool-call ID, so the attempt is the one for this call.
    const parameters = { orderId: 'order-1003', amount: 20_000, reason: 'never arrived' };
    const key = idempotencyKeyFor({ actionType: 'payments.refund', parameters, toolCallId: 'oa-call-large', windowMs: 1 });
    expect(attemptId).toBe(attemptIdFor('refund-bot', key));
    expect(text).toMatch(/until \d{4}-\d\d-\d\dT/);
    expect(refundsOf('order-1003')).toHaveLength(0);

    // The status tool: still pending before the decision; another agent's status tool learns nothing about it.
    const status = governedAgentStatusTool({ ecp: plane.ecp, agent: 'refund-bot', holdTime: '1s', consoleUrl: 'http://console.test' });
    const ask = (tool: typeof status) => tool.invoke(new RunContext(), JSON.stringify({ attemptId }));
    expect(status.name).toBe('ecp_attempt_status');
    expect(await ask(status)).toMatch(/^PENDING HUMAN APPROVAL/);
    const otherAgent = governedAgentStatusTool({ ecp: plane.ecp, agent: 'deploy-bot', holdTime: '1s' });
    expect(await ask(otherAgent)).toBe(`UNKNOWN ATTEMPT: ${attemptId} is not an attempt of agent deploy-bot.`);

    const decision = await plane.ecp.decide(attemptId, { human: 'alice', verdict: 'approve', privateKey: plane.key('alice') });
    expect(decision.accepted).toBe(true);
    expect((await plane.ecp.awaitOutcome(attemptId)).status).toBe('SUCCEEDED');
    expect(plane.target.effects.filter((e) => e.idempotencyKey === attemptId)).toHaveLength(1);
    expect(JSON.parse(await ask(status))).toMatchObject({ status: 201, body: { orderId: 'order-1003', amount: 20_000 } });

    // The same run replayed (the same function call ID) reaches the same attempt: its result, no second refund.
    const replay = new ScriptedModel('oa-call-large', { orderId: 'order-1003', amount: 20_000, reason: 'never arrived' });
    await runner.run(agentWith(replay), 'Refund 200 EUR on order-1003.');
    expect(JSON.parse(replay.seen[0]!)).toMatchObject({ status: 201, body: { orderId: 'order-1003', amount: 20_000 } });
    expect(refundsOf('order-1003')).toHaveLength(1);
  });

  it('a denied refund: the model receives the refusal with the policy reasons, and nothing ran', async () => {
    const model = new ScriptedModel('oa-call-denied', { orderId: 'order-1002', amount: 3000, reason: 'goodwill' });
    await runner.run(agentWith(model), 'Refund 30 EUR on order-1002.');
    expect(model.seen[0]).toMatch(/^DENIED: /);
    expect(model.seen[0]).toContain('refunds.never-exceed-order');
    expect(refundsOf('order-1002')).toHaveLength(0);
  });

  it('with throwOnDenial (and errorFunction null) a denial fails the run with the reasons, and nothing ran', async () => {
    const model = new ScriptedModel('oa-call-denied-throw', { orderId: 'order-1002', amount: 4000, reason: 'goodwill' });
    const agent = new Agent({
      name: 'support',
      model,
      tools: [
        governedAgentTool({
          ecp: plane.ecp,
          agent: 'refund-bot',
          actionType: 'payments.refund',
          name: 'refund',
          description: 'Refund part of an order (amount in cents)',
          parameters: refundParameters,
          resource: (input) => input.orderId,
          throwOnDenial: true,
          errorFunction: null,
        }),
      ],
    });
    await expect(runner.run(agent, 'Refund 40 EUR on order-1002.')).rejects.toThrow(/DENIED: .*refunds\.never-exceed-order/);
    expect(model.seen).toHaveLength(0);
    expect(refundsOf('order-1002')).toHaveLength(0);
  });
});
