import { proxyLocalActivities } from '@temporalio/workflow';
import type { McpCatalogue } from '../common/mcp';
import type { PlaneActivities } from '../activities';

const { mcpCatalogueFor } = proxyLocalActivities<PlaneActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, initialInterval: '200ms' },
});

export interface McpToolCatalogueInput {
  agent: string;
}

/**
 * The MCP tool catalogue one agent sees, answered by a worker (the gateway is a Temporal client and never talks to
 * downstream servers): one local activity, then done. A tool is hidden when no `permit` policy's scope can match the
 * agent and the tool's action type — policy denies it in every case (docs/mcp.md, "Which tools an agent sees").
 */
export async function mcpToolCatalogue(input: McpToolCatalogueInput): Promise<McpCatalogue> {
  return mcpCatalogueFor({ agent: input.agent });
}
