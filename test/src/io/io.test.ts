/**
 * The io helpers: paths that must stay inside a root, atomic writes, JSON errors with
 * line/column (and Python's NaN tokens read as numbers so validators can name the field).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../../src/io/atomic.ts';
import { MAX_JSON_DEPTH, checkJsonDepth, parseJsonText } from '../../../src/io/json.ts';
import { resolveInsideRoot } from '../../../src/io/paths.ts';

describe('src/io', () => {
  it('resolveInsideRoot keeps names inside the root', () => {
    const root = path.resolve('/data/set');
    assert.equal(resolveInsideRoot(root, 'a/b.jpg', 'f.json', 'x'), path.join(root, 'a', 'b.jpg'));
    assert.equal(resolveInsideRoot(root, './a/./b.jpg', 'f.json', 'x'), path.join(root, 'a', 'b.jpg'));
    // any '..' segment is refused, even one that would stay inside: untrusted names get no benefit of the doubt
    assert.throws(() => resolveInsideRoot(root, 'a/../b.jpg', 'f.json', 'x'), /"\.\." segment/);
  });

  it('resolveInsideRoot refuses absolute paths, ".." escapes, NUL and empty names', () => {
    const root = path.resolve('/data/set');
    for (const [name, why] of [['/etc/passwd', 'absolute path'], ['../x.jpg', '".." segment'], ['a\0b', 'NUL byte'], ['', 'empty'], ['C:x.jpg', 'absolute path']]) {
      assert.throws(() => resolveInsideRoot(root, name, 'f.json', 'images[2].file_name'),
        (e: Error) => e.message.startsWith('f.json: images[2].file_name: expected a relative path inside') && e.message.includes(why), name);
    }
  });

  it('writeFileAtomic replaces the file in one step and leaves no temp file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-atomic-'));
    try {
      const file = path.join(dir, 'out.json');
      writeFileAtomic(file, 'one');
      writeFileAtomic(file, new TextEncoder().encode('two'));
      assert.equal(fs.readFileSync(file, 'utf8'), 'two');
      assert.deepEqual(fs.readdirSync(dir), ['out.json']);
      // a folder that does not exist: throws, nothing written
      assert.throws(() => writeFileAtomic(path.join(dir, 'nope', 'x.json'), 'x'), /ENOENT/);
      assert.deepEqual(fs.readdirSync(dir), ['out.json']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('parseJsonText: line/column of a syntax error; NaN and Infinity read as numbers', () => {
    assert.throws(() => parseJsonText('[1,\n 2,\n }', 'f.json'), /^UserError: f\.json: malformed JSON at line 3 column 2: expected a JSON value, got "}"$/);
    assert.throws(() => parseJsonText('{"a" 1}', 'f.json'), /line 1 column 6: expected ':'/);
    const v = parseJsonText('{"s": NaN, "t": [Infinity, -Infinity, "x\\n"]}', 'f.json') as { s: number; t: unknown[] };
    assert.ok(Number.isNaN(v.s));
    assert.deepEqual(v.t, [Infinity, -Infinity, 'x\n']);
  });

  it('parseJsonText: nesting past MAX_JSON_DEPTH is one error naming the file, the depth and where (valid or not)', () => {
    const n = 300_000;
    const deep = `${'['.repeat(n)}${']'.repeat(n)}`;
    // without the limit, JSON.parse succeeds and the first reader that recurses overflows the stack
    const err = /^UserError: d\.json: JSON nested more than 1000 levels deep \(at line 1 column 1001\); refusing to read it$/;
    assert.throws(() => parseJsonText(deep, 'd.json'), err);
    assert.throws(() => parseJsonText('['.repeat(n), 'd.json'), err);
    // NaN sends the text to the lenient parser, which is guarded too; `{"a":` is 5 characters a level
    assert.throws(() => parseJsonText(`${'{"a":'.repeat(n)}NaN`, 'd.json'), /at line 1 column 5001\)/);
    // exactly at the limit is fine, brackets inside strings do not count
    const atLimit = `${'['.repeat(MAX_JSON_DEPTH - 1)}["[[[{", NaN]${']'.repeat(MAX_JSON_DEPTH - 1)}`;
    let v = parseJsonText(atLimit, 'ok.json');
    for (let i = 0; i < MAX_JSON_DEPTH - 1; i++) v = (v as unknown[])[0];
    assert.equal((v as unknown[])[0], '[[[{');
    assert.ok(Number.isNaN((v as unknown[])[1]));
    assert.throws(() => checkJsonDepth('[[["]"]]]', 'f', 'header', 2), /^UserError: f: header: JSON nested more than 2 levels deep \(at line 1 column 3\)/);
  });
});
