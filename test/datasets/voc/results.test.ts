import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { VocDetection } from '../../../datasets/voc/records.ts';
import { parseVocResults, readVocResults, readVocResultsDir, writeVocResultsDir } from '../../../datasets/voc/results.ts';
import { tmpDir } from '../../helpers/tmp.ts';

describe('datasets/voc/results', () => {
  it('parses lines into xyxy detections (x1 = xmin - 1, x2 = xmax)', () => {
    const d = parseVocResults('000019 0.705368 82.3 72.5 286.0 269.5\n000040 0.5 1 1 1 1\n', 'f.txt', 'car');
    // 82.3 - 1 = 81.3 (exact: Sterbenz), 72.5 - 1 = 71.5; the 1-pixel box 1 1 1 1 -> [0, 0, 1, 1].
    assert.deepEqual(d, [
      { imageId: '000019', name: 'car', score: 0.705368, box: [82.3 - 1, 71.5, 286, 269.5] },
      { imageId: '000040', name: 'car', score: 0.5, box: [0, 0, 1, 1] },
    ]);
    assert.equal(d[0].box[0] + 1, 82.3);
  });

  it('round-trips through the writer bit for bit, one file per class, empty ones included', () => {
    const dir = tmpDir('resdet-vocres-');
    const dets: VocDetection[] = [
      { imageId: 'a', name: 'cat', score: 0.1 + 0.2, box: [0.5, 2.25, 10.1, 20] },
      { imageId: 'b', name: 'cat', score: 1e-7, box: [3, 4, 5, 6] },
      { imageId: 'a', name: 'dog', score: 0.9, box: [1, 1, 2, 2] },
    ];
    writeVocResultsDir(dir, ['cat', 'dog', 'bird'], dets);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['comp4_det_test_bird.txt', 'comp4_det_test_cat.txt', 'comp4_det_test_dog.txt']);
    // x1 0.5 -> xmin 1.5; score 0.30000000000000004 keeps all its digits.
    assert.equal(fs.readFileSync(path.join(dir, 'comp4_det_test_cat.txt'), 'utf8'), 'a 0.30000000000000004 1.5 3.25 10.1 20\nb 1e-7 4 5 5 6\n');
    assert.equal(fs.readFileSync(path.join(dir, 'comp4_det_test_bird.txt'), 'utf8'), '');
    assert.deepEqual(readVocResultsDir(dir, ['cat', 'dog', 'bird']), dets);
  });

  it('a missing class file means no detections', () => {
    assert.deepEqual(readVocResults(path.join(os.tmpdir(), 'no-such-dir-resdet', 'comp4_det_test_cat.txt'), 'cat'), []);
  });

  it('the writer checks everything before writing anything', () => {
    const dir = tmpDir('resdet-vocres-');
    const bad = [{ imageId: 'a', name: 'cat', score: 1, box: [0, 0, 1, 1] }, { imageId: 'a', name: 'dog', score: NaN, box: [0, 0, 1, 1] }] as VocDetection[];
    assert.throws(() => writeVocResultsDir(dir, ['cat', 'dog'], bad), /comp4_det_test_dog\.txt: detections\[0\]: expected finite score and box/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  describe('bad lines: file, 1-based line and field', () => {
    const ids = new Set(['000001']);
    const bad: Array<[string, string, RegExp]> = [
      ['wrong field count', '000001 0.9 1 2 3\n', /^f\.txt: line\[1\]: expected 6 fields "image_id score xmin ymin xmax ymax", got 5/],
      ['NaN score', '000001 0.9 1 2 3 4\n000001 nan 1 2 3 4\n', /^f\.txt: line\[2\]\.score: expected a finite number, got "nan"/],
      ['non-numeric coordinate', '000001 0.9 1 2 x 4\n', /^f\.txt: line\[1\]\.xmax: expected a finite number, got "x"/],
      ['zero-size box', '000001 0.9 5 2 3.5 4\n', /^f\.txt: line\[1\]\.xmax: expected a box of positive size/],
      ['unknown image id', '000002 0.9 1 2 3 4\n', /^f\.txt: line\[1\]\.image_id: expected an image id listed in test\.txt, got "000002"/],
    ];
    for (const [what, text, re] of bad) {
      it(what, () => assert.throws(() => parseVocResults(text, 'f.txt', 'cat', ids, 'test.txt'), (e: Error) => e.name === 'UserError' && re.test(e.message)));
    }
  });
});
