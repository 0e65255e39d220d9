import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { EcpClient } from '../client/ecpClient';
import { EcpError } from '../common/errors';
import type { PlaneConfig } from '../config/load';
import { CatalogueCache, type CatalogueSource } from './catalogue';
import { createGatewayServer } from './server';
import { consoleUrlFromEnv, gatewaySettings } from './settings';

/**
 * Serves the gateway on this process's stdin/stdout for one agent, until the client closes stdin. On stdio there
 * is no token: whoever can start this command with this configuration and Temporal access acts as `agent` (the
 * desktop client that launches it is trusted to be that agent; docs/mcp.md, "stdio and trust"). stdout carries
 * the protocol only, so `log` must write elsewhere (stderr).
 */
export async function serveStdio(options: {
  agent: string;
  ecp: EcpClient;
  config: PlaneConfig;
  catalogue: CatalogueSource;
  log: (line: string) => void;
}): Promise<void> {
  if (!Object.hasOwn(options.config.directory.agents, options.agent)) {
    const known = Object.keys(options.config.directory.agents).join(', ') || 'none';
    throw new EcpError('not_found', `"${options.agent}" is not an agent in the directory (agents: ${known})`, 'agent');
  }
  const server = createGatewayServer({
    agent: options.agent,
    ecp: options.ecp,
    catalogue: new CatalogueCache(options.catalogue),
    settings: () => gatewaySettings(options.config, consoleUrlFromEnv()),
    log: options.log,
  });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  options.log(`ecp mcp: serving agent ${options.agent} on stdio`);
  await closed;
  await server.close().catch(() => {});
}
