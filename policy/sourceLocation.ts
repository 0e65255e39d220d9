import type { DetailedError } from './cedarEngine';

/** 1-based line and column of a character offset in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { line, column };
}

/** "file:line:col: message (label)" for each Cedar diagnostic, so an operator can jump to the spot. */
export function describeCedarErrors(file: string, text: string, errors: readonly DetailedError[], baseOffset = 0): string[] {
  return errors.map((err) => {
    const loc = err.sourceLocations?.[0];
    const where = loc ? (({ line, column }) => `${file}:${line}:${column}`)(lineAndColumn(text, baseOffset + loc.start)) : file;
    const label = loc?.label ? ` (${loc.label})` : '';
    const help = err.help ? ` — ${err.help}` : '';
    return `${where}: ${err.message}${label}${help}`;
  });
}
