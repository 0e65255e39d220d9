import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultPlaneKeyPath,
  defaultPlanePublicKeyPath,
  ListingSealVerifier,
  loadOrCreatePlaneKey,
  signListingSeal,
} from '../../client/listingSeal';

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecp-seal-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('listing seal', () => {
  it('verifies only for the namespace, workflow ID and run ID it was made for, with the plane key', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const verifier = new ListingSealVerifier(privateKey);
    const seal = signListingSeal(privateKey, 'default', 'att-1', 'run-1');
    expect(verifier.verify('default', 'att-1', 'run-1', seal)).toBe(true);
    expect(verifier.verify('default', 'att-1', 'run-2', seal)).toBe(false);
    expect(verifier.verify('default', 'att-2', 'run-1', seal)).toBe(false);
    expect(verifier.verify('other', 'att-1', 'run-1', seal)).toBe(false);
    // Values cannot run into each other (as they would if simply concatenated).
    expect(verifier.verify('default', 'att-1run', '-1', seal)).toBe(false);
    expect(verifier.verify('defaultatt-1', '', 'run-1', seal)).toBe(false);
    const stranger = generateKeyPairSync('ed25519').privateKey;
    expect(verifier.verify('default', 'att-1', 'run-1', signListingSeal(stranger, 'default', 'att-1', 'run-1'))).toBe(false);
    for (const junk of [undefined, null, '', 'v1:', 'v1:AAAA', seal.slice(3), `v2:${seal.slice(3)}`]) {
      expect(verifier.verify('default', 'att-1', 'run-1', junk)).toBe(false);
    }
  });

  it('generates the plane key once in the data dir, with its public key beside it for readers', () => {
    const dataDir = scratch();
    const key = loadOrCreatePlaneKey(dataDir, {});
    expect(readFileSync(defaultPlaneKeyPath(dataDir), 'utf8')).toMatch(/BEGIN PRIVATE KEY/);
    const again = loadOrCreatePlaneKey(dataDir, {});
    expect(again.export({ format: 'jwk' })).toEqual(key.export({ format: 'jwk' }));
    const seal = signListingSeal(key, 'default', 'att-1', 'run-1');
    expect(ListingSealVerifier.fromDataDir(dataDir, {}).verify('default', 'att-1', 'run-1', seal)).toBe(true);
  });

  it('a configured key (ECP_PLANE_KEY) must exist, and its public key is what local readers use', () => {
    const dataDir = scratch();
    expect(() => loadOrCreatePlaneKey(dataDir, { ECP_PLANE_KEY: join(dataDir, 'missing.key') })).toThrow(
      /ECP_PLANE_KEY: no plane key file at/,
    );
    const file = join(dataDir, 'prod.key');
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    loadOrCreatePlaneKey(dataDir, {}); // an older default key, replaced for readers by the configured one
    loadOrCreatePlaneKey(dataDir, { ECP_PLANE_KEY: file });
    const seal = signListingSeal(privateKey, 'default', 'att-1', 'run-1');
    expect(ListingSealVerifier.fromDataDir(dataDir, {}).verify('default', 'att-1', 'run-1', seal)).toBe(true);
    writeFileSync(join(dataDir, 'bad.key'), 'not a key');
    expect(() => loadOrCreatePlaneKey(dataDir, { ECP_PLANE_KEY: join(dataDir, 'bad.key') })).toThrow(
      /ECP_PLANE_KEY: .* is not a PEM private key/,
    );
  });

  it('during a rotation, readers accept seals of every key listed in ECP_PLANE_PUBLIC_KEY', () => {
    const dataDir = scratch();
    const [oldKey, newKey] = [generateKeyPairSync('ed25519'), generateKeyPairSync('ed25519')];
    writeFileSync(join(dataDir, 'old.pub'), oldKey.publicKey.export({ format: 'pem', type: 'spki' }));
    writeFileSync(join(dataDir, 'new.pub'), newKey.publicKey.export({ format: 'pem', type: 'spki' }));
    const both = ListingSealVerifier.fromDataDir(dataDir, {
      ECP_PLANE_PUBLIC_KEY: `${join(dataDir, 'new.pub')}, ${join(dataDir, 'old.pub')}`,
    });
    const onlyNew = ListingSealVerifier.fromDataDir(dataDir, { ECP_PLANE_PUBLIC_KEY: join(dataDir, 'new.pub') });
    const oldSeal = signListingSeal(oldKey.privateKey, 'default', 'att-1', 'run-1');
    expect(both.verify('default', 'att-1', 'run-1', oldSeal)).toBe(true);
    expect(both.verify('default', 'att-1', 'run-1', signListingSeal(newKey.privateKey, 'default', 'att-1', 'run-1'))).toBe(true);
    expect(onlyNew.verify('default', 'att-1', 'run-1', oldSeal)).toBe(false);
  });

  it('readers fail closed, naming where the key was expected, when there is no plane public key', () => {
    const dataDir = scratch();
    const verifier = ListingSealVerifier.fromDataDir(dataDir, {});
    expect(() => verifier.verify('default', 'att-1', 'run-1', 'v1:x')).toThrow(
      `no plane public key at ${defaultPlanePublicKeyPath(dataDir)}`,
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    writeFileSync(join(dataDir, 'rsa.pub'), rsa.export({ format: 'pem', type: 'spki' }));
    expect(() => ListingSealVerifier.fromDataDir(dataDir, { ECP_PLANE_PUBLIC_KEY: join(dataDir, 'rsa.pub') }).publicKeys).toThrow(
      /ECP_PLANE_PUBLIC_KEY: .* is not an Ed25519 public key/,
    );
  });
});
