import { mcpExposedName, type McpCatalogue } from '../../common/mcp';
import type { PlaneRuntime } from '../../config/runtime';
import { permitCanMatch } from '../../policy/visibility';

export interface McpCatalogueForInput {
  agent: string;
}

/** Why a hidden tool is hidden (docs/mcp.md, "Which tools an agent sees"). */
export const MCP_HIDDEN_REASON = 'no permit policy can match this agent and this action: policy denies it in every case';

export function createMcpActivities(runtime: PlaneRuntime) {
  return {
    /**
     * The tool catalogue one agent sees (the `mcpToolCatalogue` workflow's only step; a local activity, read-only, so
     * retries are safe). A tool is hidden when no `permit` policy's scope can match this agent and its action type —
     * policy denies it in every case; every other discovered tool is listed, with its action type and version.
     */
    async mcpCatalogueFor({ agent }: McpCatalogueForInput): Promise<McpCatalogue> {
      const config = runtime.config;
      const catalogue: McpCatalogue = { tools: [], hidden: [] };
      for (const [actionType, tool] of Object.entries(config.mcpTools ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
        const exposedName = mcpExposedName(tool.server, tool.name);
        if (!permitCanMatch(config.bundle, agent, actionType)) {
          catalogue.hidden.push({ exposedName, reason: MCP_HIDDEN_REASON });
          continue;
        }
        catalogue.tools.push({ ...tool, actionType, exposedName, version: config.actionTypeVersions[actionType]! });
      }
      return catalogue;
    },
  };
}
