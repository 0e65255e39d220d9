import { describe, expect, it } from 'vitest';
import { loadPlaneConfig } from '../../config/load';
import { loadConfigWithoutPolicies } from '../../config/withoutPolicies';
import { configRefusal } from '../helpers/configRefusal';
import { FIXTURE_DIRECTORY, scratchConfig } from '../helpers/configFixture';

const DIRECTORY = FIXTURE_DIRECTORY;
const configDir = scratchConfig;
const refusalWithoutPolicies = (path: string) => configRefusal(path, loadConfigWithoutPolicies);

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
      extraConfig: 'controls: { freezeGroup: oncall }\n',
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
      extraConfig: 'controls: { freezeGroup: nobody }\n',
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
