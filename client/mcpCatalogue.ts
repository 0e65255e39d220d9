import { WorkflowFailedError, type Client } from '@temporalio/client';
import { TimeoutFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { EcpError, TASK_QUEUE } from '../common';
import { mcpToolDefinitionSchema } from '../config/mcpCatalogueFile';
import { MCP_CATALOGUE_ID_PREFIX, MCP_CATALOGUE_WORKFLOW, type McpCatalogue } from '../common/mcp';

/** How long the catalogue workflow may take before "no worker answered". */
export const MCP_CATALOGUE_TIMEOUT = '10s';

const toolViewSchema = mcpToolDefinitionSchema.extend({
  actionType: z.string(),
  exposedName: z.string(),
  version: z.string(),
});
/** The catalogue workflow's answer, checked: the client trusts only what has this shape. */
export const mcpCatalogueSchema = z.object({
  tools: z.array(toolViewSchema),
  hidden: z.array(z.object({ exposedName: z.string(), reason: z.string() })),
});

/**
 * Asks a plane worker for the MCP tools `agent` sees (workflow `mcpToolCatalogue`, ID `ecp-mcp-catalogue-<uuid>`,
 * never listed as an attempt). Read-only, so calling it again is always safe; each call is a new short workflow. Throws
 * a `connection` EcpError when no worker answers within MCP_CATALOGUE_TIMEOUT.
 */
export async function fetchMcpCatalogue(client: Client, agent: string): Promise<McpCatalogue> {
  if (!agent) throw new EcpError('invalid_input', 'field "agent" must name an agent', 'agent');
  let answer: unknown;
  try {
    answer = await client.workflow.execute(MCP_CATALOGUE_WORKFLOW, {
      workflowId: `${MCP_CATALOGUE_ID_PREFIX}${randomUUID()}`,
      taskQueue: TASK_QUEUE,
      args: [{ agent }],
      workflowExecutionTimeout: MCP_CATALOGUE_TIMEOUT,
    });
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof TimeoutFailure) {
      throw new EcpError(
        'connection',
        `no plane worker answered the MCP tool catalogue request within ${MCP_CATALOGUE_TIMEOUT} (is the worker running on task queue "${TASK_QUEUE}"?)`,
      );
    }
    throw err;
  }
  const parsed = mcpCatalogueSchema.safeParse(answer);
  if (!parsed.success) throw new EcpError('internal', `the MCP tool catalogue answer is malformed: ${parsed.error.message.slice(0, 300)}`);
  return parsed.data as McpCatalogue;
}
