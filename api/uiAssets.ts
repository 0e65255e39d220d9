import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const UI_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'ui');

/** The browser app, built once in memory at start: one HTML page, one script, one stylesheet, one icon. No CDN, no fonts. */
export interface UiAssets {
  html: string;
  script: string;
  css: string;
  /** The favicon (SVG). */
  favicon: string;
  /** Short content hash, used in asset URLs so browsers can cache them forever. */
  version: string;
}

/**
 * Bundles `ui/main.ts` (with the shared `common/` canonical JSON and decision-statement code the browser signs with)
 * using esbuild. Takes well under a second; a build error stops the plane from serving a broken console.
 */
export async function buildUiAssets(): Promise<UiAssets> {
  const result = await build({
    entryPoints: [join(UI_DIR, 'main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const script = result.outputFiles[0]!.text;
  const css = readFileSync(join(UI_DIR, 'styles.css'), 'utf8');
  const favicon = readFileSync(join(UI_DIR, 'favicon.svg'), 'utf8');
  const version = createHash('sha256').update(script).update(css).digest('hex').slice(0, 12);
  const html = readFileSync(join(UI_DIR, 'index.html'), 'utf8').replaceAll('{{version}}', version);
  return { html, script, css, favicon, version };
}
