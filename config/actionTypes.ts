import { dirname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { EcpError } from '../common';
import { actionTypesFileSchema, configFileSchema, type ActionTypeConfig } from './schema';
import { parseSourceFile, readSourceFile } from './yamlFile';

/*
 * Reading ecp.yaml and its action types, without the policy bundle (no Cedar): shared by config/load.ts and by readers
 * that only need the action types.
 */

/**
 * Only the action types of `ecp.yaml`, validated exactly as `loadPlaneConfig` (config/load.ts) validates them but without the
 * directory cross-checks and the policy bundle: for readers that only render summaries (`ecp show`, `ecp pending`).
 */
export function loadActionTypes(configPath: string): { actionTypes: Record<string, ActionTypeConfig> } {
  const { raw, referenced } = readConfigFile(configPath);
  return { actionTypes: actionTypesOf(raw, referenced) };
}

type ConfigFile = z.output<typeof configFileSchema>;

/** `ecp.yaml` parsed and validated (the whole file, by its schema), with helpers that resolve and read the files it points to. */
export function readConfigFile(configPath: string) {
  const file = resolve(configPath);
  const base = dirname(file);
  const raw: ConfigFile = parseSourceFile(readSourceFile(file), configFileSchema);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  // A referenced file that cannot be read is reported with the ecp.yaml field that points to it.
  const referenced = (field: 'directory' | 'actionTypes', path: string) => {
    try {
      return readSourceFile(at(path));
    } catch (err) {
      if (err instanceof EcpError && err.message.startsWith('cannot read'))
        throw new EcpError('config_invalid', `${file}: field "${field}": ${err.message}`, field);
      throw err;
    }
  };
  return { file, raw, at, referenced };
}

export function actionTypesOf(
  raw: ConfigFile,
  referenced: ReturnType<typeof readConfigFile>['referenced'],
): Record<string, ActionTypeConfig> {
  return typeof raw.actionTypes === 'string'
    ? parseSourceFile(referenced('actionTypes', raw.actionTypes), actionTypesFileSchema)
    : raw.actionTypes;
}
