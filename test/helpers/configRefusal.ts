import { expect } from 'vitest';
import { EcpError } from '../../common';
import { loadPlaneConfig } from '../../config/load';

/** The message the plane refuses a configuration with; fails the test if it is accepted, or refused otherwise. */
export function configRefusal(path: string): string {
  try {
    loadPlaneConfig(path);
  } catch (err) {
    expect(err).toBeInstanceOf(EcpError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}
