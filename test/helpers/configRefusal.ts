import { expect } from 'vitest';
import { EcpError } from '../../common';
import { loadPlaneConfig } from '../../config/load';

/**
 * The message a configuration is refused with (by the plane's loader unless `load` is another); fails the test if it
 * is accepted, or refused otherwise.
 */
export function configRefusal(path: string, load: (path: string) => unknown = loadPlaneConfig): string {
  try {
    load(path);
  } catch (err) {
    expect(err).toBeInstanceOf(EcpError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}
