import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { COMMANDS } from '../../../tools/commands/index.ts';
import { CLI_REFERENCE, headingAnchor, REGENERATE, renderCliReference } from '../../../tools/docs/cli-reference.ts';
import { runCli } from '../../helpers/cli.ts';

describe('docs/cli.md, the generated command-line reference', () => {
  let generated: string;
  before(async () => {
    generated = await renderCliReference();
  });

  it('is what tools/docs/cli-reference.ts generates from the commands as registered now', () => {
    const committed = readFileSync(CLI_REFERENCE, 'utf8');
    // Compared as a whole; the message names the fix, since a changed flag or a new command
    // makes this fail by design.
    assert.ok(committed === generated, `docs/cli.md is out of date with the commands' --help: run \`${REGENERATE}\` and commit docs/cli.md`);
  });

  it('has a section for every command of tools/commands/index.ts', () => {
    for (const name of Object.keys(COMMANDS)) {
      assert.match(generated, new RegExp(`^## resdet ${name}$`, 'm'), `no section for resdet ${name}`);
      assert.ok(generated.includes(`](#${headingAnchor(`resdet ${name}`)})`), `no contents link to resdet ${name}`);
    }
  });

  it("holds a command's help exactly as the CLI prints it when piped", () => {
    const r = runCli(['eval', 'coco', '--help']);
    assert.equal(r.status, 0, r.stderr);
    const section = /^\$ resdet eval coco --help\n([\s\S]*?)\n```$/m.exec(generated);
    assert.ok(section, 'no `resdet eval coco --help` block');
    assert.equal(section[1], r.stdout.trimEnd());
  });

  it("makes GitHub's heading anchors", () => {
    assert.equal(headingAnchor('resdet eval coco'), 'resdet-eval-coco');
    assert.equal(headingAnchor('Both cores: data-parallel training (`--workers 2`)'), 'both-cores-data-parallel-training---workers-2');
    assert.equal(headingAnchor("What fits at the paper's scale"), 'what-fits-at-the-papers-scale');
    assert.equal(headingAnchor('Benchmark: `npm run bench:detect`'), 'benchmark-npm-run-benchdetect');
  });
});
