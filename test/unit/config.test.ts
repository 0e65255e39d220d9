import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE_DIRECTORY, FIXTURE_KEY, scratchConfig } from '../helpers/configFixture';
import { loadPlaneConfig } from '../../config/load';
import { configRefusal } from '../helpers/configRefusal';
import { pinDirectory } from '../../activities/context';
import { parseDuration } from '../../common/duration';

const KEY = FIXTURE_KEY;
const DIRECTORY = FIXTURE_DIRECTORY;
const configDir = scratchConfig;

const failure = configRefusal;

describe('configuration', () => {
  it('loads the demo shape and validates parameters against the action type schema', () => {
    const config = loadPlaneConfig(configDir());
    expect(Object.keys(config.actionTypes)).toEqual(['payments.refund', 'deploys.release']);
    expect(config.validateParameters({ actionType: 'payments.refund', parameters: { orderId: 'o', amount: 5, reason: 'r' } })).toBeNull();
    expect(config.validateParameters({ actionType: 'payments.refund', parameters: { orderId: 'o', amount: 'five', reason: 'r' } })).toBe(
      'field "parameters.amount" must be integer',
    );
    expect(config.validateParameters({ actionType: 'payments.refund', parameters: { orderId: 'o', reason: 'r' } })).toMatch(
      /must have required property 'amount'/,
    );
    expect(config.actionTypes['payments.refund']?.retry).toEqual({
      maximumAttempts: 5,
      initialInterval: '1s',
      maximumInterval: '10s',
      backoffCoefficient: 2,
    });
  });

  it('names file, line and field for a bad value', () => {
    const message = failure(configDir({ actionTypes: (t) => t.replace('timeout: 15s', 'timeout: soon') }));
    expect(message).toMatch(/action-types\.yaml:\d+: field "payments\.refund\.timeout" must be a duration/);
  });

  it('names the line of a YAML syntax error', () => {
    expect(failure(configDir({ directory: 'agents:\n  a: { owner: x\nhumans: {}\n' }))).toMatch(/directory\.yaml:\d+: /);
  });

  it('refuses a directory key that is not an Ed25519 public key', () => {
    expect(
      failure(
        configDir({
          directory: DIRECTORY.replace(
            `alice: { groups: [finance], publicKeys: [${KEY}] }`,
            'alice: { groups: [finance], publicKeys: [nope] }',
          ),
        }),
      ),
    ).toMatch(/directory\.yaml:\d+: field "humans\.alice\.publicKeys\[0\]" must be an Ed25519 public key/);
  });

  it('cross-checks owners, groups and actions', () => {
    expect(failure(configDir({ directory: DIRECTORY.replace('owner: carol', 'owner: nobody') }))).toMatch(
      /agent "refund-bot" has owner "nobody", who is not a human/,
    );
    expect(failure(configDir({ directory: DIRECTORY.replace('sre: {}', '') }))).toMatch(
      /human "bob" is in undeclared group "sre"[\s\S]*requires approval from undeclared group "sre"/,
    );
    expect(failure(configDir({ actionTypes: (t) => `${t}\nbilling.charge:\n  executor: { custom: charge }\n` }))).toMatch(
      /action type "billing.charge" has no action in/,
    );
  });

  it('refuses an invalid policy bundle before anything starts', () => {
    const path = configDir();
    writeFileSync(join(path, '..', 'policies', 'broken.cedar'), 'permit (principal, action, resource) when { ');
    expect(failure(path)).toMatch(/broken\.cedar:1:\d+/);
  });

  it('parses durations', () => {
    expect([parseDuration('90s'), parseDuration('30m'), parseDuration('4h'), parseDuration('2d')]).toEqual([90, 1800, 14_400, 172_800]);
    expect(() => parseDuration('1.5h')).toThrow(/not a duration/);
  });
});

describe('the pinned directory', () => {
  it('never takes an inherited member for an agent (an agent ID such as "constructor")', () => {
    const config = loadPlaneConfig(configDir());
    expect(pinDirectory(config, 'constructor').agent).toBeNull();
    expect(pinDirectory(config, 'refund-bot').agent).toMatchObject({ id: 'refund-bot', owner: 'carol' });
  });
});
