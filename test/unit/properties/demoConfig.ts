import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { scratchDir } from '../../helpers/scratchDir';

const KEY = 'ab'.repeat(32);

/** The demo's files, copied to a fresh folder (removed after the test file): ecp.yaml, directory.yaml (fixed keys), action-types.yaml, policies/. */
export function demoConfigFiles(): { dir: string; config: string; directory: string; actionTypes: string; policies: string } {
  const dir = scratchDir('ecp-prop');
  cpSync('examples/demo/policies', join(dir, 'policies'), { recursive: true });
  cpSync('examples/demo/action-types.yaml', join(dir, 'action-types.yaml'));
  const directory = parse(readFileSync('examples/demo/directory.template.yaml', 'utf8')) as {
    humans: Record<string, { publicKeys?: string[] }>;
  };
  for (const human of Object.values(directory.humans)) human.publicKeys = [KEY];
  writeFileSync(join(dir, 'directory.yaml'), stringify(directory));
  writeFileSync(join(dir, 'ecp.yaml'), 'policies: ./policies\nactionTypes: ./action-types.yaml\ndirectory: ./directory.yaml\n');
  return {
    dir,
    config: join(dir, 'ecp.yaml'),
    directory: join(dir, 'directory.yaml'),
    actionTypes: join(dir, 'action-types.yaml'),
    policies: join(dir, 'policies'),
  };
}

export const demoConfigPath = () => demoConfigFiles().config;
