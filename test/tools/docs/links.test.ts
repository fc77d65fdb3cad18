import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { anchorsOf, brokenLinks } from '../../../tools/docs/links.ts';
import { REPO_ROOT } from '../../helpers/cli.ts';

/** README.md and every Markdown page under docs/. */
function pages(): string[] {
  const docs = path.join(REPO_ROOT, 'docs');
  const found = [path.join(REPO_ROOT, 'README.md')];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else if (e.name.endsWith('.md')) found.push(path.join(dir, e.name));
    }
  };
  walk(docs);
  return found;
}

describe('documentation links', () => {
  it('every relative link in README.md and docs/ names an existing file and heading', () => {
    const all = pages();
    assert.ok(all.length > 1, 'no pages under docs/');
    const broken = all.flatMap((f) => brokenLinks(f));
    assert.deepEqual(
      broken.map((b) => `${path.relative(REPO_ROOT, b.file)}:${b.line}: ${b.target}: ${b.reason}`),
      [],
    );
  });

  describe('the checker', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'resdet-links-'));
      mkdirSync(path.join(dir, 'docs'));
      writeFileSync(path.join(dir, 'docs', 'a.md'), '# Page A\n\n## Speed (`npm run bench`)\n\n## Speed (`npm run bench`)\n');
      writeFileSync(path.join(dir, 'code.ts'), '');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('finds missing files and missing headings, and accepts good links', () => {
      const page = path.join(dir, 'README.md');
      writeFileSync(
        page,
        [
          '# Readme',
          'Good: [a](docs/a.md), [b](docs/a.md#speed-npm-run-bench), [c](docs/a.md#speed-npm-run-bench-1),',
          '[d](code.ts), [e](docs/), [f](#readme), [g](https://example.com/x.md), [h](<docs/a.md> "title").',
          'Bad: [i](docs/b.md), [j](docs/a.md#nope)',
          '[k](#missing)',
          '```md',
          '[in code](nowhere.md)',
          '```',
          'and `[inline](nowhere.md)` code.',
          '[ref]: docs/a.md#page-a',
          '[bad-ref]: docs/c.md',
        ].join('\n'),
      );
      const broken = brokenLinks(page);
      assert.deepEqual(
        broken.map((b) => [b.line, b.target]),
        [
          [4, 'docs/b.md'],
          [4, 'docs/a.md#nope'],
          [5, '#missing'],
          [11, 'docs/c.md'],
        ],
      );
      assert.match(broken[0].reason, /no such file/);
      assert.match(broken[1].reason, /no heading with anchor #nope/);
    });

    it('numbers repeated headings as GitHub does and ignores headings in code', () => {
      const anchors = anchorsOf('# A\n## B\n## B\n```\n# C\n```\n');
      assert.deepEqual([...anchors], ['a', 'b', 'b-1']);
    });
  });
});
