import { Command } from 'commander';
import { describe, expect, it } from 'vitest';

import { buildProgram, COMMAND_MODULES, commandNameIn, GLOBAL_OPTIONS_WITH_VALUE } from '../../cli/program';

const names = (program: Command) => program.commands.map((c) => c.name());

describe('ecp loads only the module of the command it runs', () => {
  it('each module registers exactly the commands it is listed with', async () => {
    for (const module of COMMAND_MODULES) {
      const program = new Command();
      (await module.load())(program);
      expect(names(program)).toEqual(module.commands);
    }
  });

  it('knows every global option that takes a value', async () => {
    const program = await buildProgram();
    const withValue = program.options.filter((o) => o.required || o.optional).map((o) => o.long);
    expect(new Set(withValue)).toEqual(GLOBAL_OPTIONS_WITH_VALUE);
  });

  it('finds the command name after the global options', () => {
    expect(commandNameIn(['show', 'att-1'])).toBe('show');
    expect(commandNameIn(['--config', 'ecp.yaml', '--keys-dir', 'k', 'approve', 'att-1', '--as', 'alice'])).toBe('approve');
    expect(commandNameIn(['--config=ecp.yaml', 'pending', '--as', 'alice'])).toBe('pending');
    expect(commandNameIn(['--', 'list'])).toBe('list');
    expect(commandNameIn(['--version'])).toBeUndefined();
    expect(commandNameIn([])).toBeUndefined();
  });

  it('registers that command alone, every command for help or a name it does not know, and none for --version', async () => {
    const all = COMMAND_MODULES.flatMap((m) => m.commands);
    expect(names(await buildProgram(['node', 'ecp', '--data-dir', 'd', 'approve', 'att-1']))).toEqual([
      'approve',
      'reject',
      'override',
      'ratify',
    ]);
    expect(names(await buildProgram(['node', 'ecp', 'show', 'att-1']))).toEqual(['show']);
    expect(names(await buildProgram(['node', 'ecp', '--help']))).toEqual(all);
    expect(names(await buildProgram(['node', 'ecp', 'shwo', 'att-1']))).toEqual(all);
    expect(names(await buildProgram(['node', 'ecp']))).toEqual(all);
    expect(names(await buildProgram(['node', 'ecp', '--version']))).toEqual([]);
  });
});
