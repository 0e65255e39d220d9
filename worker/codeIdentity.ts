import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const SOURCE_MAP_MARKER = '\n//# sourceMappingURL=';

/**
 * Identity of bundled workflow code: SHA-256 of the webpack bundle without its inline source map (the map embeds
 * where the bundle is loaded from; the code itself holds no paths), so the same ECP release gives the same digest on
 * every machine.
 */
export function workflowCodeDigest(bundle: { code: string }): string {
  const end = bundle.code.lastIndexOf(SOURCE_MAP_MARKER);
  const code = end === -1 ? bundle.code : bundle.code.slice(0, end);
  return `sha256:${createHash('sha256').update(code).digest('hex')}`;
}

/**
 * The worker build ID the plane runs with, `ecp@<version>+<workflow code digest hex>`. Temporal records it in every
 * workflow task event, so each history names the exact workflow code that produced it (evidence packs bind to it).
 */
export function planeBuildId(bundle: { code: string }): string {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return `ecp@${version}+${workflowCodeDigest(bundle).slice('sha256:'.length)}`;
}
