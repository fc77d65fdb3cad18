/**
 * `resdet eval coco`: a golden case of the repository's fixtures (test/fixtures/eval-golden,
 * pycocotools' numbers) through the CLI (child process) in both output modes; every
 * class of bad input through `evalCoco` (the command's body, in-process: each CLI start costs
 * seconds of CPU here), and three of them through the CLI for the exit status 1 and the single
 * `resdet: error: <file>: <record>.<field>: ...` line on stderr.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { formatTable, cocoPerClassTable } from '../../../src/eval/per-class-table.ts';
import { cocoJsonReport, evalCoco } from '../../../tools/commands/eval-coco.ts';
import { runCli, runCliAsync } from '../../helpers/cli.ts';
import { tmpDir } from '../../helpers/tmp.ts';
import { assertMetric } from '../../helpers/metrics.ts';
import { FIXTURE_GOLDEN } from '../../src/eval/golden-sources.ts';

const CASE = path.join(FIXTURE_GOLDEN, 'coco', 'crowd_area_bounds');

describe('resdet eval coco (CLI)', function () {
  let tmp = '';
  before(() => {
    tmp = tmpDir('resdet-eval-coco-');
  });

  it('--json prints one object with the golden stats and per-category table', () => {
    const r = runCli(['eval', 'coco', '--gt', path.join(CASE, 'gt.json'), '--dets', path.join(CASE, 'dets.json'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const out = JSON.parse(lines[0]) as { stats: number[]; perCategory: Array<Record<string, unknown>> };
    assert.deepEqual(Object.keys(out), ['stats', 'perCategory']);
    const expected = JSON.parse(fs.readFileSync(path.join(CASE, 'expected.json'), 'utf8'));
    out.stats.forEach((s, i) => assertMetric(s, expected.stats[i], `stats[${i}]`));
    assert.deepEqual(Object.keys(out.perCategory[0]), ['categoryId', 'name', 'ap', 'ap50', 'ap75', 'ar100']);
    for (const want of expected.per_category) {
      const got = out.perCategory.find((c) => c.categoryId === want.category_id)!;
      assert.equal(got.name, want.name);
      for (const key of ['ap', 'ap50', 'ap75', 'ar100']) assertMetric(got[key] as number, want[key], `category ${want.category_id} ${key}`);
    }
    // category 3 (car) has only crowd GT: -1 exactly
    assert.equal(out.perCategory.find((c) => c.categoryId === 3)!.ap, -1);
  });

  it('without --json prints the pycocotools 12-line summary', () => {
    const r = runCli(['eval', 'coco', '--gt', path.join(CASE, 'gt.json'), '--dets', path.join(CASE, 'dets.json')]);
    assert.equal(r.status, 0, r.stderr);
    const expected = JSON.parse(fs.readFileSync(path.join(CASE, 'expected.json'), 'utf8'));
    assert.equal(r.stdout, `${expected.pycocotools_summary}\n`);
  });

  it('--plot DIR --per-class md: PNGs per class with GT, the table after the summary', async () => {
    const dir = path.join(tmp, 'plots');
    const r = runCli(['eval', 'coco', '--gt', path.join(CASE, 'gt.json'), '--dets', path.join(CASE, 'dets.json'), '--plot', dir, '--per-class', 'md']);
    assert.equal(r.status, 0, r.stderr);
    const expected = JSON.parse(fs.readFileSync(path.join(CASE, 'expected.json'), 'utf8'));
    const table = formatTable(cocoPerClassTable(evalCoco({ gt: path.join(CASE, 'gt.json'), dets: path.join(CASE, 'dets.json') })), 'md');
    assert.equal(r.stdout, `${expected.pycocotools_summary}\n\n${table}`);
    assert.match(table, /^\| car \| 3 \| n\/a \|/m);
    // categories 1 person, 3 car (only crowd GT: no plot), 18 dog
    assert.deepEqual(fs.readdirSync(dir).sort(), ['pr-1-person.png', 'pr-3-dog.png', 'pr-overall.png']);
    for (const f of fs.readdirSync(dir)) {
      const meta = await sharp(path.join(dir, f)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 640, 560], f);
    }
    assert.equal(r.stderr, `resdet: wrote 3 precision-recall plots to ${dir}; none for the classes without GT (1): car\n`);
  });

  it('--json --per-class-out FILE: stdout is the unchanged JSON object, the table goes to FILE', () => {
    const out = path.join(tmp, 'table.csv');
    const r = runCli(['eval', 'coco', '--gt', path.join(CASE, 'gt.json'), '--dets', path.join(CASE, 'dets.json'), '--json', '--per-class-out', out]);
    assert.equal(r.status, 0, r.stderr);
    const result = evalCoco({ gt: path.join(CASE, 'gt.json'), dets: path.join(CASE, 'dets.json') });
    assert.equal(r.stdout, `${JSON.stringify(cocoJsonReport(result))}\n`);
    assert.equal(fs.readFileSync(out, 'utf8'), formatTable(cocoPerClassTable(result), 'csv'));
  });

  it('bad report flags: exit 1 with one line naming the flag, before any output', async () => {
    const file = path.join(CASE, 'gt.json');
    const base = ['eval', 'coco', '--gt', file, '--dets', path.join(CASE, 'dets.json')];
    const runs: Array<[string[], RegExp]> = [
      [['--per-class', 'xlsx'], /^resdet: error: --per-class: expected csv or md, got "xlsx" \(see resdet eval coco --help\)$/],
      [['--plot', file], /^resdet: error: --plot: expected a folder for the plots, got ".*gt\.json", which is a file$/],
      [['--json', '--per-class', 'md'], /^resdet: error: --per-class: with --json, stdout holds only the JSON object; write the table with --per-class-out FILE$/],
      [['--per-class-out', path.join(tmp, 'table.txt')], /^resdet: error: --per-class-out: cannot tell the format of ".*table\.txt"; name a \.csv or \.md file or give --per-class csv\|md$/],
      [['--per-class-out', path.join(tmp, 'no', 'such', 't.md')], /^resdet: error: --per-class-out: the folder ".*no\/such" does not exist$/],
    ];
    const results = await Promise.all(runs.map(([flags]) => runCliAsync([...base, ...flags])));
    results.forEach((r, i) => {
      assert.equal(r.status, 1, runs[i][0].join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr.trimEnd(), runs[i][1]);
    });
  });

  it('an empty detections list is valid: every AP 0, -1 where a category has no non-crowd GT', () => {
    const file = path.join(tmp, 'empty.json');
    fs.writeFileSync(file, '[]\n');
    const r = evalCoco({ gt: path.join(CASE, 'gt.json'), dets: file });
    assert.deepEqual(r.stats, new Array(12).fill(0));
    // categories 1, 3, 18; 3 (car) has only crowd GT
    assert.deepEqual(r.perCategory.map((c) => c.ap), [0, -1, 0]);
  });

  // Each bad input: the file content, the text the one-line error must contain, and whether the
  // case also runs through the CLI.
  const BAD: Array<[string, string, RegExp, boolean]> = [
    ['malformed JSON', '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},\n', /malformed JSON at line 2 column 1/, true],
    ['a missing field', '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}]', /detections\[0\]\.score: expected a number, got nothing \(missing field\)/, false],
    ['a NaN score (as Python writes it)', '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": NaN}]', /detections\[0\]\.score: expected a finite number, got NaN/, true],
    ['a non-numeric score', '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": "high"}]', /detections\[0\]\.score: expected a number, got "high"/, false],
    ['a negative-width box', '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, -3, 4], "score": 0.5}]', /detections\[0\]\.bbox: expected width and height > 0, got \[1, 2, -3, 4\]/, false],
    ['a zero-height box', '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 0], "score": 0.5}]', /detections\[0\]\.bbox: expected width and height > 0/, false],
    ['a NaN box', '[{"image_id": 1, "category_id": 1, "bbox": [1, NaN, 3, 4], "score": 0.5}]', /detections\[0\]\.bbox: expected 4 finite numbers/, false],
    ['an image_id not in the GT', '[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5},\n{"image_id": 999, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}]', /detections\[1\]\.image_id: expected the id of an image in .*gt\.json, got 999/, true],
    ['a category_id not in the GT', '[{"image_id": 1, "category_id": 77, "bbox": [1, 2, 3, 4], "score": 0.5}]', /detections\[0\]\.category_id: expected the id of a category in .*gt\.json, got 77/, false],
  ];
  BAD.forEach(([what, content, message, viaCli], i) => {
    it(`rejects ${what}, naming file, record and field`, () => {
      const file = path.join(tmp, `bad${i}.json`);
      fs.writeFileSync(file, content);
      assert.throws(() => evalCoco({ gt: path.join(CASE, 'gt.json'), dets: file }),
        (e: Error) => e.name === 'UserError' && e.message.startsWith(`${file}: `) && message.test(e.message));
    });
    if (viaCli) {
      it(`CLI: exits 1 with one stderr line for ${what}`, () => {
        const file = path.join(tmp, `bad${i}.json`);
        fs.writeFileSync(file, content);
        const r = runCli(['eval', 'coco', '--gt', path.join(CASE, 'gt.json'), '--dets', file, '--json']);
        assert.equal(r.status, 1);
        assert.equal(r.stdout, '');
        const lines = r.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.ok(lines[0].startsWith(`resdet: error: ${file}: `), lines[0]);
        assert.match(lines[0], message);
      });
    }
  });

  it('names the GT file when it is missing', () => {
    assert.throws(() => evalCoco({ gt: path.join(tmp, 'nothere.json'), dets: path.join(CASE, 'dets.json') }),
      /nothere\.json: cannot read the file \(ENOENT\)$/);
  });
});
