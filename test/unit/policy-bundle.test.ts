import { describe, expect, it } from 'vitest';
import { EcpError } from '../../common';
import { loadPolicyBundle } from '../../policy/bundle';
import { policyDir } from '../helpers/policyDir';

const load = (files: Record<string, string>, schema?: string) =>
  loadPolicyBundle(policyDir(files, schema), { defaultDeadlineSeconds: 3600 });
const failure = (files: Record<string, string>, schema?: string): string => {
  try {
    load(files, schema);
  } catch (err) {
    expect(err).toBeInstanceOf(EcpError);
    expect((err as EcpError).code).toBe('policy_invalid');
    return (err as Error).message;
  }
  throw new Error('expected the bundle to be refused');
};

describe('policy bundle loading fails closed, naming file and line', () => {
  it('refuses a syntax error with file:line:column', () => {
    const message = failure({
      'ok.cedar': '@id("ok") permit (principal, action, resource);\n',
      'bad.cedar': '// first line\n\npermit (principal, action, resource) when { context.parameters.amount > };\n',
    });
    expect(message).toMatch(/bad\.cedar:3:\d+: /);
  });

  it('refuses a policy that does not validate against the schema (strict mode)', () => {
    const message = failure({
      'typo.cedar':
        '\n@id("typo")\npermit (principal, action == Action::"payments.refund", resource) when { context.parameters.amout > 5 };\n',
    });
    expect(message).toMatch(/typo\.cedar:3:\d+: .*amout/);
  });

  it('refuses an unknown action', () => {
    expect(failure({ 'a.cedar': '@id("a") permit (principal, action == Action::"payments.refnd", resource);' })).toMatch(
      /a\.cedar:1:\d+: .*payments\.refnd/,
    );
  });

  it('refuses duplicate policy ids', () => {
    expect(
      failure({ 'a.cedar': '@id("x") permit (principal, action, resource);', 'b.cedar': '@id("x") permit (principal, action, resource);' }),
    ).toMatch(/b\.cedar:1: duplicate policy id "x" \(also at .*a\.cedar:1\)/);
  });

  it.each([
    ['@id("f") @requires_approval("finance") forbid (principal, action, resource);', /only allowed on permit policies/],
    ['@id("q") @quorum("2") permit (principal, action, resource);', /needs @requires_approval/],
    ['@id("z") @requires_approval("finance") @quorum("0") permit (principal, action, resource);', /@quorum\("0"\) must be a whole number/],
    [
      '@id("d") @requires_approval("finance") @deadline("soon") permit (principal, action, resource);',
      /@deadline: "soon" is not a duration/,
    ],
    ['@id("e") @requires_approval("finance") @on_expiry("approve") permit (principal, action, resource);', /only "expire" \(fail closed\)/],
  ])('refuses a bad approval annotation: %s', (policy, reason) => {
    expect(failure({ 'ann.cedar': policy })).toMatch(reason);
  });

  it('refuses a schema that does not parse, naming the schema file', () => {
    expect(failure({}, 'entity Agent = { owner: String ')).toMatch(/schema\.cedarschema:1:\d+/);
  });

  it('loads a valid bundle with a stable version over schema and policies', () => {
    const files = { 'a.cedar': '@id("a") permit (principal, action, resource);' };
    const a = load(files);
    expect(a.version).toBe(load(files).version);
    expect(a.version).not.toBe(load({ 'a.cedar': '@id("a") forbid (principal, action, resource);' }).version);
    expect(a.actions).toEqual(['payments.refund']);
    expect(a.effects).toEqual({ a: 'permit' });
  });

  it('names policies without @id after their file and position', () => {
    expect(
      Object.keys(
        load({ 'refunds.cedar': 'permit (principal, action, resource);\nforbid (principal, action, resource) when { false };' }).policies,
      ),
    ).toEqual(['refunds#1', 'refunds#2']);
  });
});
