import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { EcpError } from '../common';
import type { McpToolDefinition } from '../common/mcp';

/*
 * The last tool catalogue the worker discovered, kept in the data directory so readers without downstream connections
 * (the `ecp` CLI, the console) build the same action types and Cedar declarations as the worker.
 */

const json = z.record(z.string(), z.unknown());
/** One downstream tool definition as kept and as the catalogue workflow answers it (common/mcp.ts `McpToolDefinition`). */
export const mcpToolDefinitionSchema = z.object({
  server: z.string(),
  name: z.string(),
  title: z.string().optional(),
  description: z.string().optional(),
  inputSchema: json,
  outputSchema: json.optional(),
  annotations: z
    .object({
      title: z.string().optional(),
      readOnlyHint: z.boolean().optional(),
      destructiveHint: z.boolean().optional(),
      idempotentHint: z.boolean().optional(),
      openWorldHint: z.boolean().optional(),
    })
    .optional(),
});
const catalogueFileSchema = z.strictObject({ discoveredAt: z.string(), tools: z.array(mcpToolDefinitionSchema) });

/** `<dataDir>/mcp/catalogue.json`. */
export function mcpCatalogueFile(dataDir: string): string {
  return join(dataDir, 'mcp', 'catalogue.json');
}

/** The kept catalogue, or null when there is none. A file that does not parse is an error naming it (fail closed). */
export function readMcpCatalogue(dataDir: string): McpToolDefinition[] | null {
  const file = mcpCatalogueFile(dataDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    return catalogueFileSchema.parse(JSON.parse(text)).tools as McpToolDefinition[];
  } catch (err) {
    throw new EcpError(
      'config_invalid',
      `${file}: not a tool catalogue kept by the worker (${(err as Error).message.slice(0, 300)}); delete it and restart the worker`,
    );
  }
}

/** Keeps the catalogue atomically (write a temporary file, then rename), so a reader never sees half a file. */
export function writeMcpCatalogue(dataDir: string, tools: readonly McpToolDefinition[]): void {
  const file = mcpCatalogueFile(dataDir);
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ discoveredAt: new Date().toISOString(), tools }, null, 2)}\n`);
  renameSync(temporary, file);
}
