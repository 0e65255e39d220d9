// Temporary folders for tests, removed once the test file that made them is done (they used to pile up in /tmp:
// thousands a day from the property tests alone).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made = new Set<string>();

// Registered when a test file first imports this module (each file has its own module instances), and registered
// before the file's own hooks, so it runs after them: whatever the file started in a folder has stopped by then.
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
  made.clear();
});

/** A fresh, empty folder under the system's temporary folder, named `<prefix>-XXXXXX`; removed after this test file. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  made.add(dir);
  return dir;
}
