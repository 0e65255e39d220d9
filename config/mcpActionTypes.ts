import type { Ajv } from 'ajv';
import { digestOf, type JsonValue } from '../common';
import { mcpActionTypeName, type McpToolDefinition } from '../common/mcp';
import type { ActionTypeConfig, McpConfig, McpExecutorConfig } from './schema';

/*
 * The pure half of the MCP catalogue: a snapshot of downstream tools (as the worker listed them) → action types
 * `mcp.<server>.<segment>`, their versions, and the Cedar declarations policies need to name them. No I/O: the worker,
 * the CLI and the console build the same configuration from the same snapshot.
 */

/** An MCP action type's config: its executor is the tool itself. */
export type McpActionTypeConfig = ActionTypeConfig & { executor: McpExecutorConfig };

export interface McpActionTypes {
  actionTypes: Record<string, McpActionTypeConfig>;
  /** Action type name → version: a digest that covers the whole tool definition (so a changed tool is a new version). */
  versions: Record<string, string>;
  /** Action type name → the tool definition it was made from. */
  tools: Record<string, McpToolDefinition>;
  /** Tools left out, each with the reason (logged by the worker; never a crash). */
  skipped: { server: string; tool: string; reason: string }[];
}

const ACTION_TYPE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/**
 * Turns the tools of configured servers into action types. A tool of a server that is not configured (any more) is
 * ignored; two tools of one server mapping to the same segment are both left out (neither may shadow the other); a
 * tool whose `inputSchema` strict Ajv rejects is left out. `ajv` compiles each schema once (the caller keeps the validators).
 */
export function mcpActionTypesOf(
  mcp: McpConfig | undefined,
  tools: readonly McpToolDefinition[],
  compile: (name: string, schema: Record<string, unknown>) => string | null,
): McpActionTypes {
  const result: McpActionTypes = { actionTypes: {}, versions: {}, tools: {}, skipped: [] };
  if (!mcp) return result;
  const byName = new Map<string, McpToolDefinition[]>();
  for (const tool of tools) {
    if (!Object.hasOwn(mcp.servers, tool.server)) continue;
    const name = mcpActionTypeName(tool.server, tool.name);
    byName.set(name, [...(byName.get(name) ?? []), tool]);
  }
  for (const [name, group] of [...byName].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const tool = group[0]!;
    const skip = (reason: string) => group.forEach((t) => result.skipped.push({ server: t.server, tool: t.name, reason }));
    if (group.length > 1) {
      skip(`tools ${group.map((t) => JSON.stringify(t.name)).join(' and ')} both map to action type "${name}"`);
      continue;
    }
    if (name.length > 128 || !ACTION_TYPE_NAME.test(name)) {
      skip(`its action type name "${name.slice(0, 140)}" is not a valid action type name (at most 128 characters)`);
      continue;
    }
    const problem = compile(name, tool.inputSchema);
    if (problem) {
      skip(`its inputSchema is not a valid JSON Schema for strict Ajv: ${problem}`);
      continue;
    }
    const server = mcp.servers[tool.server]!;
    const type: McpActionTypeConfig = {
      ...(tool.description ? { description: tool.description.slice(0, 500) } : {}),
      parameters: tool.inputSchema,
      executor: { mcp: { server: tool.server, tool: tool.name } },
      retry: server.retry,
      timeout: server.timeout,
    };
    result.actionTypes[name] = type;
    result.tools[name] = tool;
    result.versions[name] = mcpActionTypeVersion(type, tool);
  }
  return result;
}

/**
 * The version of an MCP action type: covers the executor settings and every part of the tool an agent or a policy
 * relies on (name, title, description, inputSchema, outputSchema, annotations). A downstream server that changes any
 * of them between evaluation and execution makes a new version, which the re-check and the executor refuse.
 */
export function mcpActionTypeVersion(type: McpActionTypeConfig, tool: McpToolDefinition): string {
  const { summary: _summary, description: _description, ...rest } = type;
  const definition: Record<string, JsonValue | undefined> = {
    server: tool.server,
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
    annotations: tool.annotations as JsonValue | undefined,
  };
  return digestOf({ ...rest, tool: JSON.parse(JSON.stringify(definition)) as JsonValue });
}

/**
 * Cedar declarations for MCP action types, appended to the bundle's schema text (so the bundle version and the
 * evidence pack cover them): `action "mcp"`, one group `action "mcp.<server>" in [Action::"mcp"]` per configured
 * server (known from configuration alone), and per discovered tool an action in its server's group whose context is
 * `{ parameters: <mapped from inputSchema>, claims: {}, facts: { tool: McpTool } }`. Anything the user's schema
 * already declares (`declared`: actions; `McpTool` among `commonTypes`) is not declared again.
 */
export function mcpCedarDeclarations(
  mcp: McpConfig | undefined,
  tools: Record<string, McpToolDefinition>,
  declared: { actions: ReadonlySet<string>; commonTypes: ReadonlySet<string> },
): string {
  if (!mcp || Object.keys(mcp.servers).length === 0) return '';
  const lines = ['', '// Generated by ECP from ecp.yaml `mcp:` and the discovered tool catalogue (docs/mcp.md).'];
  if (!declared.commonTypes.has('McpTool')) {
    lines.push(
      'type McpTool = { server: String, name: String, readOnlyHint: Bool, destructiveHint: Bool, idempotentHint: Bool, openWorldHint: Bool };',
    );
  }
  if (!declared.actions.has('mcp')) lines.push('action "mcp";');
  for (const server of Object.keys(mcp.servers).sort()) {
    if (!declared.actions.has(`mcp.${server}`)) lines.push(`action "mcp.${server}" in [Action::"mcp"];`);
  }
  for (const [name, tool] of Object.entries(tools).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (declared.actions.has(name)) continue;
    lines.push(
      `action ${JSON.stringify(name)} in [Action::"mcp.${tool.server}"] appliesTo { principal: [Agent], resource: [Resource], context: { parameters: ${cedarRecordOf(tool.inputSchema)}, claims: {}, facts: { tool: McpTool } } };`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Best-effort Cedar record type for a tool's parameters, from the inputSchema's top-level properties: string → String,
 * integer → Long, boolean → Bool, array of strings → Set<String>; required → required attribute, else optional.
 * Anything else is left out (Cedar cannot read it; Ajv still validates the full arguments and the hash pins them).
 */
export function cedarRecordOf(schema: Record<string, unknown>): string {
  const properties = schema.properties;
  if (!properties || typeof properties !== 'object' || Array.isArray(properties)) return '{}';
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === 'string') : []);
  const attrs: string[] = [];
  for (const [key, value] of Object.entries(properties as Record<string, unknown>)) {
    const type = cedarTypeOf(value);
    if (!type || key.startsWith('__')) continue;
    attrs.push(`${JSON.stringify(key)}${required.has(key) ? '' : '?'}: ${type}`);
  }
  return `{ ${attrs.join(', ')} }`.replace('{  }', '{}');
}

function cedarTypeOf(schema: unknown): string | null {
  if (!schema || typeof schema !== 'object') return null;
  const s = schema as { type?: unknown; items?: { type?: unknown } };
  if (s.type === 'string') return 'String';
  if (s.type === 'integer') return 'Long';
  if (s.type === 'boolean') return 'Bool';
  if (s.type === 'array' && s.items && typeof s.items === 'object' && s.items.type === 'string') return 'Set<String>';
  return null;
}

/** One compile function over a shared strict Ajv: returns the problem, or null and keeps the validator. */
export function ajvCompiler(ajv: Ajv, into: Record<string, ReturnType<Ajv['compile']>>) {
  return (name: string, schema: Record<string, unknown>): string | null => {
    try {
      into[name] = ajv.compile(schema);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };
}
