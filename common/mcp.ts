import type { JsonValue } from './record';

/*
 * The MCP contract shared by the plane's worker side (downstream servers, action types, executor) and the gateway
 * (what agents see). Pure and sandbox-safe: the catalogue workflow returns these shapes.
 */

/** Workflow type of the catalogue query the gateway runs (a short workflow: one local activity, then done). */
export const MCP_CATALOGUE_WORKFLOW = 'mcpToolCatalogue';
/** Catalogue workflow IDs start with this, so they never look like attempt IDs (`att-…`). */
export const MCP_CATALOGUE_ID_PREFIX = 'ecp-mcp-catalogue-';
/** Every action type made from an MCP tool is `mcp.<server>.<tool segment>`. */
export const MCP_ACTION_PREFIX = 'mcp';
/** The tool name an agent sees: `<server>__<tool>` (MCP clients accept letters, digits, `_` and `-`). */
export const MCP_EXPOSED_SEPARATOR = '__';

/** Behaviour hints a downstream tool declares (MCP `ToolAnnotations`); hints, not guarantees. */
export interface McpToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** One downstream tool exactly as its server listed it (the parts ECP governs and pins). */
export interface McpToolDefinition {
  /** The configured server name (ecp.yaml `mcp.servers.<name>`). */
  server: string;
  /** The tool's own name on that server. */
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, JsonValue>;
  outputSchema?: Record<string, JsonValue>;
  annotations?: McpToolAnnotations;
}

/** A downstream tool as the gateway offers it to one agent. */
export interface McpToolView extends McpToolDefinition {
  /** `mcp.<server>.<tool segment>`: the action type every call of this tool proposes. */
  actionType: string;
  /** `<server>__<tool>`: the name in the gateway's `tools/list`. */
  exposedName: string;
  /** The action type version (digest over the tool definition): what an approval of a call pins. */
  version: string;
}

/** What the catalogue workflow answers for one agent. */
export interface McpCatalogue {
  tools: McpToolView[];
  /** Tools left out for this agent, with the rule that hid them (docs/mcp.md, "Which tools an agent sees"). */
  hidden: { exposedName: string; reason: string }[];
}

/**
 * The verified facts an MCP action type's attempt pins (its context provider is the tool catalogue itself): Cedar
 * policies read them as `context.facts.tool.*`. A hint the server did not declare takes MCP's default, which is the
 * cautious reading: readOnly false, destructive true, idempotent false, openWorld true.
 */
export interface McpToolFacts {
  tool: {
    server: string;
    name: string;
    readOnlyHint: boolean;
    destructiveHint: boolean;
    idempotentHint: boolean;
    openWorldHint: boolean;
  };
}

/** The action type segment for a tool name: lower-case, anything outside [a-z0-9_] becomes `_`, never a leading digit. */
export function mcpToolSegment(toolName: string): string {
  const segment = toolName.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return /^[a-z]/.test(segment) ? segment : `t_${segment}`;
}

/** `mcp.<server>.<tool segment>`. */
export function mcpActionTypeName(server: string, toolName: string): string {
  return `${MCP_ACTION_PREFIX}.${server}.${mcpToolSegment(toolName)}`;
}

/** `<server>__<tool>`. */
export function mcpExposedName(server: string, toolName: string): string {
  return `${server}${MCP_EXPOSED_SEPARATOR}${toolName}`;
}

/** True for action type names made from MCP tools. */
export function isMcpActionType(actionType: string): boolean {
  return actionType.startsWith(`${MCP_ACTION_PREFIX}.`);
}
