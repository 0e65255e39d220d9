import type { Command } from 'commander';
import { EcpError } from '../../common/errors';
import { print, printJson } from '../format';
import { action, examples } from '../run';

export function registerMcp(program: Command): void {
  const group = program
    .command('mcp')
    .description('the MCP gateway: serve it to an agent on stdio, make agent tokens for its HTTP endpoint (/mcp)')
    .addHelpText('after', examples('ecp mcp serve --agent files-bot', 'ecp mcp token --agent files-bot'));
  group
    .command('serve')
    .description(
      'serve the gateway on stdin/stdout as <agent> (for a desktop MCP client to launch); every tool call is an attempt. ' +
        'Whoever can run this with this configuration acts as the agent: see docs/mcp.md',
    )
    .requiredOption('--agent <name>', 'the agent every call proposes as (must be in the directory)')
    .addHelpText('after', examples('ecp mcp serve --agent files-bot'))
    .action(
      action<{ agent: string }>(async (ctx, o) => {
        const config = await ctx.config('ecp mcp serve');
        if (!Object.hasOwn(config.directory.agents, o.agent)) {
          const known = Object.keys(config.directory.agents).join(', ') || 'none';
          throw new EcpError('not_found', `"${o.agent}" is not an agent in the directory (agents: ${known})`, 'agent');
        }
        // The plane validates the proposal; the gateway checks arguments against the tool's schema itself.
        const ecp = await ctx.client({ withConfig: false });
        const { serveStdio } = await import('../../gateway/stdio');
        // stdout is the protocol: every log line goes to stderr.
        await serveStdio({
          agent: o.agent,
          ecp,
          config,
          catalogue: (agent) => ecp.mcpCatalogue(agent),
          log: (line) => process.stderr.write(`${line}\n`),
        });
      }),
    );
  group
    .command('token')
    .description('make a bearer token for an agent to use the gateway over HTTP; prints it once, and the hash ecp.yaml keeps')
    .requiredOption('--agent <name>', 'the agent the token authenticates')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('ecp mcp token --agent files-bot'))
    .action(
      action<{ agent: string; json?: boolean }>(async (ctx, o) => {
        const config = await ctx.optionalConfigWithoutPolicies();
        if (config && !Object.hasOwn(config.directory.agents, o.agent)) {
          throw new EcpError('not_found', `"${o.agent}" is not an agent in the directory of ${ctx.configPath}`, 'agent');
        }
        const { createAgentToken } = await import('../../gateway/tokens');
        const { token, tokenHash } = createAgentToken();
        const snippet = `mcp:\n  agents:\n    ${o.agent}:\n      tokenHash: "${tokenHash}"\n`;
        if (o.json) return printJson({ agent: o.agent, token, tokenHash, snippet });
        print(`Token (give it to the agent's MCP client privately; ECP does not keep it): ${token}`);
        print(`Hash: ${tokenHash}\n\nAdd to ecp.yaml (then reload the plane with SIGHUP):\n${snippet.trimEnd().replace(/^/gm, '  ')}`);
        print(`\nThe client sends it on every request to /mcp as:  Authorization: Bearer ${token}`);
      }),
    );
}
