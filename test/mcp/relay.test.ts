/**
 * Elicitation and sampling relayed through the gateway (issue 12): the downstream server is the real
 * `@modelcontextprotocol/server-everything` on stdio (its trigger-elicitation-request and trigger-sampling-request
 * tools send `elicitation/create` and `sampling/createMessage` back during the call), the worker is the plane's, the
 * gateway is `/mcp` on the console's server, and the agents are SDK `Client`s — one declaring elicitation and sampling
 * with handlers, one declaring neither.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  type CallToolResult,
  type ClientCapabilities,
  type CreateMessageRequest,
  type ElicitRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { EcpClient } from '../../client';
import { startConsole, type RunningConsole } from '../../api/server';
import { MCP_RELAY_WORKFLOW, mcpRelayId, type McpRelayOutcome } from '../../common/mcpRelay';
import { createAgentToken } from '../../gateway/tokens';
import { startTestPlane, type TestPlane } from '../helpers/plane';

const require = createRequire(import.meta.url);
const EVERYTHING = join(dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');
const AGENT = 'files-bot';
const ELICIT = 'everything__trigger-elicitation-request';
const SAMPLE = 'everything__trigger-sampling-request';

let plane: TestPlane;
let web: RunningConsole;
let token: string;

beforeAll(async () => {
  const made = createAgentToken();
  token = made.token;
  plane = await startTestPlane({
    policies: {
      'mcp.cedar': `
@id("mcp.everything.test")
permit (principal == Agent::"${AGENT}", action in Action::"mcp.everything", resource);
`,
    },
    mcp: {
      servers: { everything: { command: process.execPath, args: [EVERYTHING, 'stdio'], timeout: '60s' } },
      agents: { [AGENT]: { tokenHash: made.tokenHash } },
      holdTime: '60s',
      progressInterval: '1s',
    },
  });
  web = await startConsole({
    port: 0,
    address: plane.address,
    namespace: 'default',
    config: () => plane.runtime.config,
    dataDir: plane.dataDir,
    log: () => {},
  });
}, 240_000);

afterAll(async () => {
  await web?.close();
  await plane?.teardown();
});

async function agent(capabilities: ClientCapabilities): Promise<Client> {
  const client = new Client({ name: 'relay-agent', version: '1.0.0' }, { capabilities });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${web.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
  );
  return client;
}

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const attemptOf = (r: CallToolResult) => r._meta?.['ecp/attemptId'] as string;
/** How the attempt's first relay ended (the worker's view of what the gateway answered). */
const relayOutcome = (attemptId: string) =>
  plane.ecp.client.workflow.getHandle(mcpRelayId(attemptId, 1)).result() as Promise<McpRelayOutcome>;
/** Each test's call is a new one: identical calls of one agent within the idempotency window get the first's outcome. */
const fresh = () => ({ 'ecp/idempotencyKey': `relay-test-${Math.random().toString(36).slice(2)}` });

describe('elicitation and sampling during a governed tool call', () => {
  it("relays the downstream's elicitation to an agent that supports it; the tool result carries the agent's answer", async () => {
    const client = await agent({ elicitation: {} });
    const asked: ElicitRequest['params'][] = [];
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(request.params);
      return { action: 'accept', content: { name: 'Ada Lovelace', check: true, integer: 7 } };
    });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain(ELICIT);
    const result = (await client.callTool({ name: ELICIT, arguments: {}, _meta: fresh() })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(asked).toHaveLength(1);
    expect(asked[0]!.message).toBe('Please provide inputs for the following fields:');
    expect(textOf(result)).toContain('User provided the requested information');
    expect(textOf(result)).toContain('- Name: Ada Lovelace');
    expect(textOf(result)).toContain('- Favorite Integer: 7');
    const record = await plane.ecp.getRecord(attemptOf(result));
    expect(record.status).toBe('SUCCEEDED');
    // The answer is kept in the relay's history, beside the attempt, never listed as an attempt.
    const { count } = await plane.ecp.client.workflow.count(
      `WorkflowType = '${MCP_RELAY_WORKFLOW}' AND WorkflowId = '${attemptOf(result)}-relay-1'`,
    );
    expect(count).toBe(1);
    await client.close();
  });

  it("relays sampling to an agent that supports it; the tool result carries the agent's message", async () => {
    const client = await agent({ sampling: {} });
    const asked: CreateMessageRequest['params'][] = [];
    client.setRequestHandler(CreateMessageRequestSchema, (request) => {
      asked.push(request.params);
      return { role: 'assistant', model: 'scripted-model', content: { type: 'text', text: 'forty-two' } };
    });
    const result = (await client.callTool({
      name: SAMPLE,
      arguments: { prompt: 'the answer?', maxTokens: 5 },
      _meta: fresh(),
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(asked).toHaveLength(1);
    expect(JSON.stringify(asked[0]!.messages)).toContain('the answer?');
    expect(textOf(result)).toContain('LLM sampling result');
    expect(textOf(result)).toContain('forty-two');
    expect(textOf(result)).toContain('scripted-model');
    await client.close();
  });

  it('refuses elicitation cleanly for an agent without the capability: the call completes, declined, no hang', async () => {
    const client = await agent({});
    const started = Date.now();
    const result = (await client.callTool({ name: ELICIT, arguments: {}, _meta: fresh() })) as CallToolResult;
    // Refused as soon as the gateway sees the relay, not at the claim timeout or the call's timeout.
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toContain('User declined to provide the requested information');
    expect((await plane.ecp.getRecord(attemptOf(result))).status).toBe('SUCCEEDED');
    // The gateway refused it (not the relay's claim timer): it knew the agent's client cannot elicit.
    expect(await relayOutcome(attemptOf(result))).toEqual({
      kind: 'refused',
      reason: "elicitation is not supported by the agent's client",
    });
    await client.close();
  });

  it("refuses sampling cleanly for an agent without the capability: the downstream's error is the outcome", async () => {
    const client = await agent({});
    const result = (await client.callTool({
      name: SAMPLE,
      arguments: { prompt: 'anyone?', maxTokens: 5 },
      _meta: fresh(),
    })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("sampling is not available: sampling is not supported by the agent's client");
    const record = await plane.ecp.getRecord(attemptOf(result));
    expect(record.status).toBe('FAILED');
    expect(await relayOutcome(attemptOf(result))).toEqual({ kind: 'refused', reason: "sampling is not supported by the agent's client" });
    await client.close();
  });

  it('refuses the relay of an attempt nobody holds (proposed outside the gateway) after the claim window', async () => {
    // A service proposing straight to the plane (the live configuration knows the discovered MCP action types).
    const service = new EcpClient(plane.ecp.client, plane.runtime.config, plane.ecp.listingSeal);
    const { attemptId } = await service.propose({
      agent: AGENT,
      actionType: 'mcp.everything.trigger_elicitation_request',
      resource: 'mcp:everything/trigger-elicitation-request',
      parameters: {},
      justification: 'relay test: a call no gateway holds',
      claims: {},
      idempotencyKey: `relay-test-outside-${Date.now()}`,
    });
    const record = await plane.ecp.client.workflow.getHandle(attemptId).result();
    expect(record.status).toBe('SUCCEEDED');
    expect(JSON.stringify(record.outcome)).toContain('User declined to provide the requested information');
    expect(await relayOutcome(attemptId)).toEqual({ kind: 'refused', reason: 'no gateway holds this call, so nobody could ask the agent' });
  });
});
