import type { Command } from 'commander';
import { EcpError } from '../../common/errors';
import { print, printJson } from '../format';
import { action, examples } from '../run';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new EcpError(
      'invalid_input',
      'pipe the secret on standard input (it never goes on the command line), or pass --generate',
      'secret',
    );
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export function registerConsole(program: Command): void {
  const group = program
    .command('console')
    .description('web console administration')
    .addHelpText('after', examples('ecp console hash-secret --generate --human frank'));
  group
    .command('hash-secret')
    .description("hash a human's console sign-in secret for the `console.humans` section of ecp.yaml (scrypt)")
    .option('--generate', 'generate a random secret, print it once, and hash it')
    .option('--human <id>', 'print a ready-to-paste ecp.yaml snippet for this human')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      examples(
        "printf '%s' 'a long passphrase here' | ecp console hash-secret --human frank",
        'ecp console hash-secret --generate --human frank',
      ),
    )
    .action(
      action<{ generate?: boolean; human?: string; json?: boolean }>(async (_ctx, o) => {
        const { GENERATED_SECRET_COST, generateSecret, hashSecret } = await import('../../api/auth/secrets');
        const secret = o.generate ? generateSecret() : await readStdin();
        const secretHash = o.generate ? hashSecret(secret, GENERATED_SECRET_COST) : hashSecret(secret);
        const snippet = `console:\n  humans:\n    ${o.human ?? '<human>'}:\n      secretHash: "${secretHash}"\n`;
        if (o.json) return printJson({ human: o.human ?? null, secretHash, ...(o.generate ? { secret } : {}), snippet });
        if (o.generate) print(`Secret (give it to ${o.human ?? 'the human'} privately; it is not stored): ${secret}`);
        print(`Hash: ${secretHash}\n\nAdd to ecp.yaml (then reload the plane with SIGHUP):\n${snippet.trimEnd().replace(/^/gm, '  ')}`);
      }),
    );
}
