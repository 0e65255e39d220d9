import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from './scratchDir';

/** A public key that parses (64 hex digits); no test signs with it. */
export const FIXTURE_KEY = 'ab'.repeat(32);

/** A small directory: refund-bot (owned by carol), alice in finance, carol in support, bob in sre. */
export const FIXTURE_DIRECTORY = `agents:
  refund-bot: { owner: carol, scopes: [payments:refund] }
humans:
  alice: { groups: [finance], publicKeys: [${FIXTURE_KEY}] }
  carol: { groups: [support], publicKeys: [${FIXTURE_KEY}] }
  bob: { groups: [sre], publicKeys: [${FIXTURE_KEY}] }
groups: { finance: {}, support: {}, sre: {} }
`;

/** The ecp.yaml of {@link scratchConfig}, pointing at its three files. */
export const FIXTURE_ECP_YAML = 'policies: ./policies\nactionTypes: ./action-types.yaml\ndirectory: ./directory.yaml\n';

/**
 * A configuration in a scratch folder: the demo's policies and action types with {@link FIXTURE_DIRECTORY}, each
 * replaceable or editable; `extraPolicy` adds a policy file, `extraConfig` appends to ecp.yaml. Returns ecp.yaml's path.
 */
export function scratchConfig(
  edit: {
    config?: string;
    extraConfig?: string;
    directory?: string;
    actionTypes?: (text: string) => string;
    extraPolicy?: string;
  } = {},
): string {
  const dir = scratchDir('ecp-config');
  cpSync('examples/demo/policies', join(dir, 'policies'), { recursive: true });
  if (edit.extraPolicy) writeFileSync(join(dir, 'policies', 'extra.cedar'), edit.extraPolicy);
  const types = readFileSync('examples/demo/action-types.yaml', 'utf8');
  writeFileSync(join(dir, 'action-types.yaml'), edit.actionTypes ? edit.actionTypes(types) : types);
  writeFileSync(join(dir, 'directory.yaml'), edit.directory ?? FIXTURE_DIRECTORY);
  writeFileSync(join(dir, 'ecp.yaml'), (edit.config ?? FIXTURE_ECP_YAML) + (edit.extraConfig ?? ''));
  return join(dir, 'ecp.yaml');
}
