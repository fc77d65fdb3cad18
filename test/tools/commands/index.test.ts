import assert from 'node:assert/strict';
import { COMMANDS, commandNamed } from '../../../tools/commands/index.ts';
import { runCli } from '../../helpers/cli.ts';

describe('resdet command list', () => {
  it('finds the subcommand on a command line, skipping options and the --backend value', () => {
    assert.equal(commandNamed(['eval', 'coco', '--gt', 'g.json']), 'eval');
    assert.equal(commandNamed(['--backend', 'cpu', 'info', '--json']), 'info');
    assert.equal(commandNamed(['--help']), undefined);
    assert.equal(commandNamed(['frob']), undefined);
    // a name inherited from Object.prototype is not a command
    assert.equal(commandNamed(['toString']), undefined);
  });

  it('every entry loads a register function, and --help lists every command', async () => {
    for (const load of Object.values(COMMANDS)) assert.equal(typeof (await load()), 'function');
    const r = runCli(['--help']);
    assert.equal(r.status, 0, r.stderr);
    for (const name of Object.keys(COMMANDS)) assert.match(r.stdout, new RegExp(`^  ${name}\\b`, 'm'));
  });

  it('an unknown command exits non-zero with one clear line', () => {
    const r = runCli(['frob']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown command 'frob'/);
  });
});
