import { EcpError } from './errors';

/**
 * An on/off environment variable that is on unless set to `0`: `1` or unset is on, `0` off, anything else is refused
 * with an EcpError naming the variable (a typo must not silently pick a side).
 */
export function envSwitchOn(env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  const value = env[name];
  if (value !== undefined && value !== '0' && value !== '1')
    throw new EcpError('config_invalid', `${name} must be 0 or 1, got "${value}"`, name);
  return value !== '0';
}
