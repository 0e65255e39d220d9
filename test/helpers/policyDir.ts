import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from './scratchDir';

/** A minimal schema for policy tests: one action with numeric parameters and facts. */
export const TEST_SCHEMA = `entity Agent = { owner: String, scopes: Set<String> };
entity Resource;
action "payments.refund" appliesTo {
  principal: [Agent], resource: [Resource],
  context: { parameters: { amount: Long }, claims: {}, facts: { total: Long } },
};
`;

/** Writes a policy bundle to a fresh temp folder (removed after the test file) and returns its path. */
export function policyDir(files: Record<string, string>, schema = TEST_SCHEMA): string {
  const dir = scratchDir('ecp-policies');
  writeFileSync(join(dir, 'schema.cedarschema'), schema);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
