import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { formatTable, vocPerClassTable } from '../../../src/eval/per-class-table.ts';
import { evalVoc, formatVocTable, type EvalVocOptions } from '../../../tools/commands/eval-voc.ts';
import { EVAL_GOLDEN, runCli, runCliAsync, type CliResult } from '../../helpers/cli.ts';
import { assertMetric } from '../../helpers/metrics.ts';
import { requireShared } from '../../helpers/shared.ts';
import { FIXTURE_GOLDEN } from '../../src/eval/golden-sources.ts';
import { tmpDir } from '../../helpers/tmp.ts';


const ann = (objects: string): string =>
  `<annotation><filename>x.jpg</filename><size><width>100</width><height>100</height><depth>3</depth></size>${objects}</annotation>`;
const cat = (box = '<xmin>1</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax>'): string =>
  `<object><name>cat</name><difficult>0</difficult><bndbox>${box}</bndbox></object>`;

/**
 * A small dataset: images a, b with one cat each (VOC [1,1,10,10] and [21,21,40,40]) and a
 * results folder with only a cat file; `edit` overrides files before the run.
 */
function dataset(edit: Record<string, string> = {}): { args: string[]; opts: EvalVocOptions } {
  const root = tmpDir('resdet-evalvoc-');
  const files: Record<string, string> = {
    'Annotations/a.xml': ann(cat()),
    'Annotations/b.xml': ann(cat('<xmin>21</xmin><ymin>21</ymin><xmax>40</xmax><ymax>40</ymax>')),
    'ImageSets/Main/test.txt': 'a\nb\n',
    // a: exact box (TP); b: far away (FP) but scored lower.
    'results/comp4_det_test_cat.txt': 'a 0.9 1 1 10 10\nb 0.8 60 60 70 70\n',
    ...edit,
  };
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  const opts = { annotations: path.join(root, 'Annotations'), imageset: path.join(root, 'ImageSets/Main/test.txt'), dets: path.join(root, 'results'), classes: 'cat' };
  return { opts, args: ['eval', 'voc', '--annotations', opts.annotations, '--imageset', opts.imageset, '--dets', opts.dets] };
}

describe('resdet eval voc', () => {
  // The repository's fixture always, a ../shared case when present; --classes names the classes
  // with GT, so the mean to compare is the reference's mean over those classes.
  const golden: Array<[string, string, boolean]> = [
    ['fixtures', path.join(FIXTURE_GOLDEN, 'voc', 'voc_matching_rules'), true],
    ['../shared', path.join(EVAL_GOLDEN, 'voc', 'voc_difficult_heavy'), false],
  ];
  for (const [label, dir, required] of golden) {
    describe(`golden case through the CLI (${label})`, () => {
      if (!required) before(function () { requireShared(this, dir); });

      it('--json: exactly the documented keys, every class AP and both mAPs within 1e-9', () => {
        const e = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
        const r = runCli(['eval', 'voc', '--annotations', path.join(dir, 'Annotations'), '--imageset', path.join(dir, 'ImageSets/Main/test.txt'),
          '--dets', path.join(dir, 'results'), '--classes', e.classes_with_gt.join(','), '--json']);
        assert.equal(r.status, 0, r.stderr);
        // the only warning: the (empty) results files of the classes left out
        const left = e.classes.length - e.classes_with_gt.length;
        assert.equal(r.stderr, left === 0 ? '' : r.stderr.split('\n')[0] + '\n');
        if (left > 0) assert.match(r.stderr, new RegExp(`: ${left} results files of classes outside the class list were not read \\(0 detections\\)`));
        const out = JSON.parse(r.stdout);
        assert.deepEqual(Object.keys(out), ['classes', 'ap07', 'apArea', 'mAP07', 'mAPArea']);
        assert.deepEqual(out.classes, e.classes_with_gt);
        for (const c of e.classes_with_gt) {
          assertMetric(out.ap07[c], e.per_class[c].ap_07, `${c} ap07`);
          assertMetric(out.apArea[c], e.per_class[c].ap_area, `${c} apArea`);
        }
        assertMetric(out.mAP07, e.mAP_07_classes_with_gt, 'mAP07');
        assertMetric(out.mAPArea, e.mAP_area_classes_with_gt, 'mAPArea');
      });
    });
  }

  it('--plot DIR --per-class csv: a PNG per class with GT and the overall one, the CSV after the table', async () => {
    const dir = path.join(FIXTURE_GOLDEN, 'voc', 'voc_matching_rules');
    const plots = path.join(tmpDir('resdet-evalvoc-plot-'), 'plots');
    const opts = { annotations: path.join(dir, 'Annotations'), imageset: path.join(dir, 'ImageSets/Main/test.txt'), dets: path.join(dir, 'results'), classes: 'car,cat,dog,person,bird' };
    const r = runCli(['eval', 'voc', '--annotations', opts.annotations, '--imageset', opts.imageset, '--dets', opts.dets, '--classes', opts.classes, '--plot', plots, '--per-class', 'csv']);
    assert.equal(r.status, 0, r.stderr);
    const result = evalVoc({ ...opts, warn: () => {} });
    assert.equal(r.stdout, `${formatVocTable(result)}\n${formatTable(vocPerClassTable(result), 'csv')}`);
    assert.match(r.stdout, /^bird,0,0,0,0,0$/m);
    // bird has no GT: no plot, and said so on stderr (after the warning about it)
    assert.deepEqual(fs.readdirSync(plots).sort(), ['pr-1-car.png', 'pr-2-cat.png', 'pr-3-dog.png', 'pr-4-person.png', 'pr-overall.png']);
    const meta = await sharp(path.join(plots, 'pr-2-cat.png')).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 640, 560]);
    assert.match(r.stderr, /resdet: wrote 5 precision-recall plots to .*; none for the classes without GT \(1\): bird\n$/);
  });

  it('prints a table; --classes picks the classes, a missing results file is no detections', () => {
    const { args } = dataset();
    const r = runCli([...args, '--classes', 'cat,dog']);
    assert.equal(r.status, 0, r.stderr);
    // cat: TP then FP -> rec [1/2, 1/2], prec [1, 1/2]: area 0.5; 11-point 6/11 = 0.5455.
    // dog: no GT, no file -> 0. mAP = (0.5455 + 0) / 2, (0.5 + 0) / 2.
    assert.equal(r.stdout, [
      'class      AP07  AP(area)',
      'cat      0.5455    0.5000',
      'dog      0.0000    0.0000',
      'mAP      0.2727    0.2500',
      '',
    ].join('\n'));
  });

  describe('bad input: exit 1 and one stderr line naming the file and field', () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['malformed XML', { 'Annotations/b.xml': '<annotation><size></annotation>' }, /b\.xml: line 1, col \d+: malformed XML/],
      ['missing xmin', { 'Annotations/b.xml': ann(cat('<ymin>1</ymin><xmax>10</xmax><ymax>10</ymax>')) }, /b\.xml: object\[0\]\.bndbox\.xmin: missing/],
      ['missing bndbox', { 'Annotations/b.xml': ann('<object><name>cat</name></object>') }, /b\.xml: object\[0\]\.bndbox: missing/],
      ['non-numeric coordinate', { 'Annotations/b.xml': ann(cat('<xmin>1</xmin><ymin>one</ymin><xmax>10</xmax><ymax>10</ymax>')) }, /b\.xml: object\[0\]\.bndbox\.ymin: expected a finite number, got "one"/],
      ['degenerate box', { 'Annotations/b.xml': ann(cat('<xmin>11</xmin><ymin>1</ymin><xmax>10</xmax><ymax>10</ymax>')) }, /b\.xml: object\[0\]\.bndbox: expected xmin <= xmax/],
      ['entity declaration', { 'Annotations/b.xml': `<!DOCTYPE a [<!ENTITY x "cat">]>${ann(cat().replace('>cat<', '>&x;<'))}` }, /b\.xml: DOCTYPE: DOCTYPE\/ENTITY declarations are not allowed/],
      ['results line with wrong field count', { 'results/comp4_det_test_cat.txt': 'a 0.9 1 1 10 10\nb 0.8 60 60 70\n' }, /comp4_det_test_cat\.txt: line\[2\]: expected 6 fields/],
      ['NaN score', { 'results/comp4_det_test_cat.txt': 'a NaN 1 1 10 10\n' }, /comp4_det_test_cat\.txt: line\[1\]\.score: expected a finite number, got "NaN"/],
      ['unknown image id', { 'results/comp4_det_test_cat.txt': 'c 0.9 1 1 10 10\n' }, /comp4_det_test_cat\.txt: line\[1\]\.image_id: expected an image id listed in test\.txt, got "c"/],
      ['image set naming a missing annotation', { 'ImageSets/Main/test.txt': 'a\nb\nzz\n' }, /test\.txt: image\[zz\]: expected an annotation file .*zz\.xml, not found/],
    ];
    // Every case runs the subcommand's code in-process (a CLI start costs seconds of CPU); it must
    // throw one UserError whose one-line message the CLI prints. Three of them (an XML, a results
    // and an image-set error) also run through the real CLI for the exit status and stderr.
    const throughCli = new Set(['entity declaration', 'NaN score', 'image set naming a missing annotation']);
    const runs = new Map<string, Promise<CliResult>>();
    before(() => {
      for (const [what, edit] of cases) {
        if (throughCli.has(what)) runs.set(what, runCliAsync([...dataset(edit).args, '--classes', 'cat', '--json']));
      }
    });
    for (const [what, edit, re] of cases) {
      it(what, async () => {
        assert.throws(() => evalVoc(dataset(edit).opts), (e: Error) => e.name === 'UserError' && !e.message.includes('\n') && re.test(e.message));
        const run = runs.get(what);
        if (!run) return;
        const r = await run;
        assert.equal(r.status, 1);
        assert.equal(r.stdout, '');
        const lines = r.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], /^resdet: error: /);
        assert.match(lines[0], re);
      });
    }
  });

  describe('warnings: what the mAP cannot show is one stderr line', () => {
    const warnings = (edit: Record<string, string>, extra: Partial<EvalVocOptions> = {}): string[] => {
      const lines: string[] = [];
      evalVoc({ ...dataset(edit).opts, ...extra, warn: (l) => lines.push(l) });
      return lines;
    };

    it('a class without ground truth (a misspelt --classes entry) is a warning, and an error with --strict', () => {
      const d = dataset();
      const lines: string[] = [];
      const r = evalVoc({ ...d.opts, classes: 'cat,doggo', warn: (l) => lines.push(l) });
      // the numbers are voc_eval's: doggo scores 0 and halves the mean (0.5455 / 2)
      assert.equal(r.ap07.doggo, 0);
      assert.ok(Math.abs(r.mAP07 - 6 / 11 / 2) < 1e-12);
      assert.deepEqual(lines, [`--classes: 1 of 2 classes have no ground-truth object in ${d.opts.imageset}: doggo; each scores AP 0 and counts in the mAP (check the spelling; --strict makes this an error)`]);
      assert.deepEqual(warnings({}), []);
    });

    it('--strict through the CLI: exit 1, the exact line, nothing on stdout', () => {
      const d = dataset();
      const r = runCli([...d.args, '--classes', 'cat,doggo', '--strict']);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `resdet: error: --classes: 1 of 2 classes have no ground-truth object in ${d.opts.imageset}: doggo (--strict); check the spelling or the class list\n`);
    });

    it('results files of classes outside --classes are counted, not read', () => {
      const d = dataset({ 'results/comp4_det_test_dog.txt': 'a 0.5 1 1 10 10\nb 0.4 1 1 10 10\n', 'results/comp4_det_test_car.txt': 'x y z\n' });
      const lines: string[] = [];
      const r = evalVoc({ ...d.opts, warn: (l) => lines.push(l) });
      assert.ok(Math.abs(r.mAP07 - 6 / 11) < 1e-12); // cat alone, as without the files
      // the malformed car file is not parsed: it is outside the class list
      assert.deepEqual(lines, [`${d.opts.dets}: 2 results files of classes outside the class list were not read (3 detections): comp4_det_test_car.txt, comp4_det_test_dog.txt`]);
    });

    it('detections entirely outside their image are counted (and scored as false positives)', () => {
      // images are 100x100: x1 = 100 (xmin 101) starts past the right edge; the second overlaps it
      const d = dataset({ 'results/comp4_det_test_cat.txt': 'a 0.9 1 1 10 10\nb 0.8 101 1 120 10\nb 0.7 90 90 130 130\n' });
      const lines: string[] = [];
      evalVoc({ ...d.opts, warn: (l) => lines.push(l) });
      assert.deepEqual(lines, [`${d.opts.dets}: 1 detections lie entirely outside their image (first: comp4_det_test_cat.txt image b); they are scored as false positives, as voc_eval does`]);
    });
  });
});
