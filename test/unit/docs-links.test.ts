/**
 * Every relative link in README.md and docs/**.md must point to a file (or folder) that exists, and a `#anchor`
 * into a Markdown file must name one of its headings — the README was split into docs/, so a moved section must
 * not leave a dead link behind.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A link found in a Markdown file: where it is and what it points to. */
interface Link {
  line: number;
  target: string;
}

/** Removes fenced code blocks and inline code spans (keeping line breaks), so `[x](y)` inside code is not a link. */
function withoutCode(markdown: string): string {
  const lines = markdown.split('\n');
  let fence: string | undefined;
  return lines
    .map((line) => {
      const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence) {
        if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
        return '';
      }
      if (marker) {
        fence = marker;
        return '';
      }
      return line.replace(/(`+)[^`]*?\1/g, '');
    })
    .join('\n');
}

/** Inline links and images, `[text](target)` / `![alt](target)`, with their line numbers. */
function linksIn(markdown: string): Link[] {
  const links: Link[] = [];
  withoutCode(markdown)
    .split('\n')
    .forEach((text, index) => {
      for (const match of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        links.push({ line: index + 1, target: match[1] ?? '' });
      }
    });
  return links;
}

/** GitHub's heading anchor: lower case, markup and punctuation dropped, spaces become hyphens, repeats get -1, -2 … */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutCodeBlocksOnly(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link's text stays, its target goes
      .replace(/<[^>]+>/g, '')
      .replace(/[`*~]/g, '');
    const base = text
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The lines of a Markdown file outside fenced code blocks (a `# comment` in a bash block is not a heading). */
function withoutCodeBlocksOnly(markdown: string): string[] {
  const out: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (marker) fence = marker;
    else out.push(line);
  }
  return out;
}

/**
 * The broken relative links of one Markdown text, as `file:line: target — reason`. `read` returns another file's
 * text (for its anchors) or undefined if it does not exist.
 */
function brokenLinks(
  file: string,
  markdown: string,
  exists: (path: string) => boolean,
  read: (path: string) => string | undefined,
): string[] {
  const problems: string[] = [];
  for (const { line, target } of linksIn(markdown)) {
    // External links and e-mail addresses are not checked (no network in unit tests).
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
    const hash = target.indexOf('#');
    const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const where = `${file}:${line}: ${target}`;
    const resolved = pathPart === '' ? file : join(dirname(file), pathPart);
    if (pathPart !== '' && !exists(resolved)) {
      problems.push(`${where} — no such file: ${resolved}`);
      continue;
    }
    if (anchor === undefined || anchor === '' || !resolved.endsWith('.md')) continue;
    const text = pathPart === '' ? markdown : read(resolved);
    if (text === undefined) {
      problems.push(`${where} — cannot read ${resolved}`);
    } else if (!anchorsOf(text).has(anchor.toLowerCase())) {
      problems.push(`${where} — no heading with anchor #${anchor} in ${resolved}`);
    }
  }
  return problems;
}

/** README.md and every .md under docs/, relative to the repository root. */
function markdownFiles(): string[] {
  const files = ['README.md'];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(ROOT, dir)).sort()) {
      const path = join(dir, name);
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (name.endsWith('.md')) files.push(path);
    }
  };
  walk('docs');
  return files;
}

const onDisk = {
  exists: (path: string) => existsSync(join(ROOT, path)),
  read: (path: string) => (existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), 'utf8') : undefined),
};

describe('links in README.md and docs/', () => {
  const files = markdownFiles();

  it('finds the README, the guides and their links', () => {
    expect(files).toContain('README.md');
    expect(files).toContain(join('docs', 'README.md'));
    expect(files.length).toBeGreaterThan(5);
    // A parser that found no links would pass everything: the README alone links to every guide.
    expect(linksIn(onDisk.read('README.md') ?? '').length).toBeGreaterThan(20);
  });

  it.each(files)('every relative link in %s points to an existing file and heading', (file) => {
    const markdown = onDisk.read(file) ?? '';
    expect(brokenLinks(file, markdown, onDisk.exists, onDisk.read)).toEqual([]);
  });

  it('every guide in docs/ is reachable from the docs index', () => {
    const index = onDisk.read(join('docs', 'README.md')) ?? '';
    const linked = new Set(linksIn(index).map(({ target }) => join('docs', target.split('#')[0] ?? '')));
    const unlisted = files.filter((f) => f.startsWith('docs') && f !== join('docs', 'README.md') && !linked.has(f));
    expect(unlisted.map((f) => relative('docs', f))).toEqual([]);
  });
});

describe('the link checker itself', () => {
  const files: Record<string, string> = {
    'docs/a.md': '# Title\n\n## The `ecp` CLI\n\n## Same\n\n## Same\n\n### 5. Denied — facts beat claims\n',
    'docs/images/x.png': '',
  };
  const exists = (path: string) => path.replace(/\/$/, '') in files || path.replace(/\/$/, '') === 'docs/images';
  const read = (path: string) => files[path];
  const check = (markdown: string) => brokenLinks('docs/b.md', markdown, exists, read);

  it('accepts files, folders, headings with code, repeated headings and dashes, external links', () => {
    expect(
      check(
        '[a](a.md) [b](a.md#the-ecp-cli) [c](a.md#same-1) ![i](images/x.png) [d](images/) ' +
          '[e](a.md#5-denied--facts-beat-claims) [web](https://example.com/missing) [self](#here)\n\n## Here\n',
      ),
    ).toEqual([]);
  });

  it('names a missing file, a missing anchor and a missing anchor in the same file', () => {
    expect(check('one\n[gone](../docs/gone.md)\n[bad](a.md#nope)\n[local](#nowhere)\n')).toEqual([
      'docs/b.md:2: ../docs/gone.md — no such file: docs/gone.md',
      'docs/b.md:3: a.md#nope — no heading with anchor #nope in docs/a.md',
      'docs/b.md:4: #nowhere — no heading with anchor #nowhere in docs/b.md',
    ]);
  });

  it('ignores links inside code', () => {
    expect(check('`[x](missing.md)`\n\n```\n[y](missing.md)\n```\n')).toEqual([]);
  });
});
