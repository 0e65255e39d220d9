import type { Command } from 'commander';
import { createHumanKey } from '../../client/keys';
import { print, printJson } from '../format';
import { action, examples } from '../run';

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description("manage humans' Ed25519 signing keys")
    .addHelpText('after', examples('ecp keys new frank'));
  keys
    .command('new')
    .description('create <keys-dir>/<human>.key (mode 0600) and print the public key for the directory')
    .argument('<human>', 'the human id, as in the directory')
    .option('--force', 'replace an existing key (the old one stops working once the directory is updated)')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('ecp keys new frank', 'ecp --keys-dir ~/.ecp/keys keys new frank --json'))
    .action(
      action<{ force?: boolean; json?: boolean }>(async (ctx, o, [human]) => {
        const { path, publicKey } = createHumanKey(ctx.keysDir, human!, Boolean(o.force));
        const snippet = `humans:\n  ${human}:\n    groups: [<group>]\n    publicKeys: [${publicKey}]\n`;
        if (o.json) return printJson({ human, path, publicKey, directorySnippet: snippet });
        print(`Created ${path} — keep it private; it signs ${human}'s decisions.`);
        print(`Public key: ${publicKey}`);
        print('');
        print('Add it to the directory (and reload the plane):');
        print(snippet.trimEnd().replace(/^/gm, '  '));
      }),
    );
}
