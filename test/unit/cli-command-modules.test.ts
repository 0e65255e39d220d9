import { Command } from 'commander';
import { describe, expect, it } from 'vitest';

import { buildProgram, COMMAND_MODULES, commandNameIn, optionsTakingValue } from '../../cli/program';

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
    expect(optionsTakingValue(await buildProgram())).toEqual(new Set(['--config', '--data-dir', '--keys-dir']));
  });

  it('finds the command name after the global options', async () => {
    const withValue = optionsTakingValue(await buildProgram());
    expect(commandNameIn(['show', 'att-1'], withValue)).toBe('show');
    expect(commandNameIn(['--config', 'ecp.yaml', '--keys-dir', 'k', 'approve', 'att-1', '--as', 'alice'], withValue)).toBe('approve');
    expect(commandNameIn(['--config=ecp.yaml', 'pending', '--as', 'alice'], withValue)).toBe('pending');
    expect(commandNameIn(['--', 'list'], withValue)).toBe('list');
    expect(commandNameIn(['--version'], withValue)).toBeUndefined();
    expect(commandNameIn([], withValue)).toBeUndefined();
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
