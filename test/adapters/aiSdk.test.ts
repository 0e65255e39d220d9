import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { governedStatusTool, governedTool } from '../../adapters/aiSdk';
import { idempotencyKeyFor } from '../../adapters/idempotency';
import { attemptIdFor } from '../../common';
import { startTestPlane, type TestPlane } from '../helpers/plane';

/** What the model saw as the tool's output on its second turn. */
interface Seen {
  output: unknown;
}

/**
 * The AI SDK's own mock model, scripted like a real one: on its first turn it calls `refund` with `args`; on the
 * next it has the tool result in its prompt, keeps it in `seen`, and answers with text.
 */
function scriptedModel(toolCallId: string, args: object, seen: Seen[]) {
  const usage = {
    inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 1, text: 1, reasoning: undefined },
  };
  return new MockLanguageModelV4({
    doGenerate: async ({ prompt }) => {
      const toolMessage = prompt.find((m) => m.role === 'tool');
      const result = toolMessage?.content.find((p) => p.type === 'tool-result');
      if (!result) {
        return {
          content: [{ type: 'tool-call', toolCallId, toolName: 'refund', input: JSON.stringify(args) }],
          finishReason: { unified: 'tool-calls', raw: undefined },
          usage,
          warnings: [],
        };
      }
      seen.push({ output: result.output });
      return {
        content: [{ type: 'text', text: 'Told the customer.' }],
        finishReason: { unified: 'stop', raw: undefined },
        usage,
        warnings: [],
      };
    },
  });
}

const refundInput = z.object({ orderId: z.string(), amount: z.number().int(), reason: z.string() });

describe('governedTool (Vercel AI SDK) against the real plane', () => {
  let plane: TestPlane;
  beforeAll(async () => {
    plane = await startTestPlane();
  });
  afterAll(async () => {
    await plane?.teardown();
  });

  const refundTool = (holdTime = '20s') =>
    governedTool({
      ecp: plane.ecp,
      agent: 'refund-bot',
      actionType: 'payments.refund',
      description: 'Refund part of an order (amount in cents)',
      inputSchema: refundInput,
      resource: (input) => input.orderId,
      justification: (input) => `Customer asked: ${input.reason}`,
      holdTime,
      consoleUrl: 'http://console.test',
    });

  const refundsOf = (orderId: string) =>
    plane.target.effects.filter((e) => e.kind === 'refund' && (e.body as { orderId: string }).orderId === orderId);

  it('a small refund is allowed: the model receives the executor result and the target saw exactly one refund', async () => {
    const seen: Seen[] = [];
    const result = await generateText({
      model: scriptedModel('ai-call-small', { orderId: 'order-1001', amount: 1500, reason: 'damaged' }, seen),
      tools: { refund: refundTool() },
      stopWhen: stepCountIs(3),
      prompt: 'Refund 15 EUR on order-1001, it arrived damaged.',
    });
    expect(result.text).toBe('Told the customer.');
    expect(seen).toHaveLength(1);
    // The demo executor's result: the target's HTTP status and body.
    expect(seen[0]!.output).toMatchObject({
      type: 'json',
      value: { status: 201, body: { orderId: 'order-1001', amount: 1500, refundId: expect.any(String) } },
    });
    expect(refundsOf('order-1001')).toHaveLength(1);
  });

  it('a large refund answers "pending" after the hold time, then runs once when approved with a signed decision', async () => {
    const seen: Seen[] = [];
    const governed = refundTool('1s');
    const result = await generateText({
      model: scriptedModel('ai-call-large', { orderId: 'order-1003', amount: 20_000, reason: 'never arrived' }, seen),
      tools: { refund: governed },
      stopWhen: stepCountIs(3),
      prompt: 'Refund 200 EUR on order-1003.',
    });
    expect(result.text).toBe('Told the customer.');
    const output = seen[0]!.output as { type: string; value: string };
    // Not an error: the SDK passes it as the tool's ordinary output.
    expect(output.type).toBe('text');
    expect(output.value).toMatch(/^PENDING HUMAN APPROVAL/);
    expect(output.value).toContain('1 approval(s) from finance');
    const attemptId = /att-[0-9a-f]{32}/.exec(output.value)![0];
    expect(output.value).toContain(`http://console.test/attempts/${attemptId}`);
    // The documented key: from the framework's tool-call ID, so the attempt is the one for this call.
    const parameters = { orderId: 'order-1003', amount: 20_000, reason: 'never arrived' };
    const key = idempotencyKeyFor({ actionType: 'payments.refund', parameters, toolCallId: 'ai-call-large', windowMs: 1 });
    expect(attemptId).toBe(attemptIdFor('refund-bot', key));
    expect(output.value).toMatch(/until \d{4}-\d\d-\d\dT/);
    expect(refundsOf('order-1003')).toHaveLength(0);

    // The status tool: still pending before the decision; another agent's status tool learns nothing about it.
    const status = governedStatusTool({ ecp: plane.ecp, agent: 'refund-bot', holdTime: '1s', consoleUrl: 'http://console.test' });
    const options = { toolCallId: 'ai-status', messages: [], context: {} };
    expect(await status.execute!({ attemptId }, options)).toMatch(/^PENDING HUMAN APPROVAL/);
    const otherAgent = governedStatusTool({ ecp: plane.ecp, agent: 'deploy-bot', holdTime: '1s' });
    expect(await otherAgent.execute!({ attemptId }, options)).toBe(`UNKNOWN ATTEMPT: ${attemptId} is not an attempt of agent deploy-bot.`);

    const decision = await plane.ecp.decide(attemptId, { human: 'alice', verdict: 'approve', privateKey: plane.key('alice') });
    expect(decision.accepted).toBe(true);
    expect((await plane.ecp.awaitOutcome(attemptId)).status).toBe('SUCCEEDED');
    expect(refundsOf('order-1003')).toHaveLength(1);
    expect(plane.target.effects.filter((e) => e.idempotencyKey === attemptId)).toHaveLength(1);
    expect(await status.execute!({ attemptId }, options)).toMatchObject({ status: 201, body: { orderId: 'order-1003', amount: 20_000 } });

    // The framework re-running the same tool call reaches the same attempt: its result, and no second refund.
    const again = await governed.execute!(
      { orderId: 'order-1003', amount: 20_000, reason: 'never arrived' },
      { toolCallId: 'ai-call-large', messages: [], context: {} },
    );
    expect(again).toMatchObject({ status: 201, body: { orderId: 'order-1003', amount: 20_000 } });
    expect(refundsOf('order-1003')).toHaveLength(1);
  });

  it('a denied refund: the model receives the refusal with the policy reasons, and nothing ran', async () => {
    const seen: Seen[] = [];
    await generateText({
      model: scriptedModel('ai-call-denied', { orderId: 'order-1002', amount: 3000, reason: 'goodwill' }, seen),
      tools: { refund: refundTool() },
      stopWhen: stepCountIs(3),
      prompt: 'Refund 30 EUR on order-1002.',
    });
    const output = seen[0]!.output as { type: string; value: string };
    expect(output.type).toBe('text');
    expect(output.value).toMatch(/^DENIED: /);
    expect(output.value).toContain('refunds.never-exceed-order');
    expect(refundsOf('order-1002')).toHaveLength(0);
  });

  it('refuses bad options when the tool is made, naming the field', () => {
    expect(() =>
      governedTool({ ecp: plane.ecp, agent: 'refund-bot', actionType: 'Payments Refund', description: 'x', inputSchema: refundInput }),
    ).toThrow(/actionType.*dotted lower-case words/);
    expect(() =>
      governedTool({
        ecp: plane.ecp,
        agent: 'refund-bot',
        actionType: 'payments.refund',
        description: 'x',
        inputSchema: refundInput,
        holdTime: 'soon',
      }),
    ).toThrow(/holdTime.*duration like 30s/);
  });
});
