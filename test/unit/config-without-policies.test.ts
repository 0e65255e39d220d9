import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EcpError } from '../../common';
import { loadPlaneConfig } from '../../config/load';
import { loadConfigWithoutPolicies } from '../../config/withoutPolicies';
import { configRefusal } from '../helpers/configRefusal';
import { scratchDir } from '../helpers/scratchDir';

const KEY = 'ab'.repeat(32);
const DIRECTORY = `agents:
  refund-bot: { owner: carol, scopes: [payments:refund] }
humans:
  alice: { groups: [finance], publicKeys: [${KEY}] }
  carol: { groups: [support], publicKeys: [${KEY}] }
  bob: { groups: [sre], publicKeys: [${KEY}] }
groups: { finance: {}, support: {}, sre: {} }
`;

/** The demo's policies and action types with `directory`, and a policy file `extra` added when given. */
function configDir(edit: { directory?: string; extraPolicy?: string; config?: string } = {}): string {
  const dir = scratchDir('ecp-config-np');
  cpSync('examples/demo/policies', join(dir, 'policies'), { recursive: true });
  if (edit.extraPolicy) writeFileSync(join(dir, 'policies', 'extra.cedar'), edit.extraPolicy);
  writeFileSync(join(dir, 'action-types.yaml'), readFileSync('examples/demo/action-types.yaml', 'utf8'));
  writeFileSync(join(dir, 'directory.yaml'), edit.directory ?? DIRECTORY);
  writeFileSync(
    join(dir, 'ecp.yaml'),
    edit.config ?? 'policies: ./policies\nactionTypes: ./action-types.yaml\ndirectory: ./directory.yaml\n',
  );
  return join(dir, 'ecp.yaml');
}

function refusalWithoutPolicies(path: string): string {
  try {
    loadConfigWithoutPolicies(path);
  } catch (err) {
    expect(err).toBeInstanceOf(EcpError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('the configuration without its policies (what the CLI and clients read)', () => {
  it('is the plane configuration without the bundle: same directory, action types, versions and parameter rules', () => {
    const path = configDir();
    const { bundle, ...plane } = loadPlaneConfig(path);
    const light = loadConfigWithoutPolicies(path);
    expect(bundle.version).toMatch(/^sha256:/);
    expect('bundle' in light).toBe(false);
    expect(JSON.parse(JSON.stringify(light))).toEqual(JSON.parse(JSON.stringify(plane)));
    const cases: Array<Record<string, string | number>> = [
      { orderId: 'o', amount: 5, reason: 'r' },
      { orderId: 'o', amount: 'five', reason: 'r' },
      {},
    ];
    for (const parameters of cases) {
      const proposal = { actionType: 'payments.refund', parameters };
      expect(light.validateParameters(proposal)).toBe(plane.validateParameters(proposal));
    }
  });

  it('refuses what the plane refuses outside the policies, with the same message', () => {
    const undeclaredGroup = configDir({ directory: DIRECTORY.replace('groups: [sre]', 'groups: [sre, oncall]') });
    expect(refusalWithoutPolicies(undeclaredGroup)).toBe(configRefusal(undeclaredGroup));
    expect(refusalWithoutPolicies(undeclaredGroup)).toMatch(/human "bob" is in undeclared group "oncall"/);

    const freezeGroup = configDir({
      config: 'policies: ./policies\nactionTypes: ./action-types.yaml\ndirectory: ./directory.yaml\ncontrols: { freezeGroup: oncall }\n',
    });
    expect(refusalWithoutPolicies(freezeGroup)).toBe(configRefusal(freezeGroup));

    const badYaml = configDir({ directory: 'agents:\n  a: { owner: x\nhumans: {}\n' });
    expect(refusalWithoutPolicies(badYaml)).toBe(configRefusal(badYaml));
  });

  it('keeps the problems in the order the plane reports them, the policies’ between the directory’s and the rest', () => {
    const path = configDir({
      directory: DIRECTORY.replace('groups: [sre]', 'groups: [sre, oncall]'),
      extraPolicy:
        '@id("needs-auditors")\n@requires_approval("auditors")\npermit (principal, action == Action::"payments.refund", resource);\n',
      config: 'policies: ./policies\nactionTypes: ./action-types.yaml\ndirectory: ./directory.yaml\ncontrols: { freezeGroup: nobody }\n',
    });
    const plane = configRefusal(path);
    expect(plane).toMatch(
      /undeclared group "oncall"[\s\S]*policy "needs-auditors" requires approval from undeclared group "auditors"[\s\S]*controls\.freezeGroup/,
    );
    expect(refusalWithoutPolicies(path)).toBe(plane.replace(/\n {2}[^\n]*policy "needs-auditors"[^\n]*/, ''));
  });

  it('does not read the policies: a broken bundle is the plane’s to refuse', () => {
    const path = configDir({ extraPolicy: 'permit (principal, action, resource' });
    expect(configRefusal(path)).toMatch(/extra\.cedar/);
    expect(loadConfigWithoutPolicies(path).directory.humans.alice?.groups).toEqual(['finance']);
  });
});
