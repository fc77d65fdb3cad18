/**
 * `resdet compare-backbones` end to end on the tiny shapes set: two small backbones, one update
 * each. One CLI run (--json, ~18 s on 2 cores) gives the rows; the table the CLI prints without
 * --json is `formatComparison` of those rows, checked for the Tables 7-8 layout.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { formatComparison, type ComparisonRow } from '../../../tools/commands/compare-backbones.ts';
import { runCli } from '../../helpers/cli.ts';
import { tmpDir } from '../../helpers/tmp.ts';
import { makeTinyShapes, TINY_DETECTOR_FLAGS } from '../../helpers/tiny-shapes.ts';

describe('tools: compare-backbones (tiny shapes set)', function () {
  const tmp = tmpDir('resdet-compare-');
  const data = path.join(tmp, 'shapes');
  before(() => makeTinyShapes(data));

  it('--json gives one row per backbone with mAP in [0, 1], and the table has one Tables 7-8 row each', function () {
    const out = path.join(tmp, 'runs');
    const r = runCli(['compare-backbones', '--backbones', 'resnet18,resnet34', '--data', data, '--format', 'voc', '--preset', 'shapes',
      '--iterations', '1', '--out', out, '--json', ...TINY_DETECTOR_FLAGS]);
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as ComparisonRow[];
    assert.deepEqual(rows.map((row) => row.backbone), ['resnet18', 'resnet34']);
    for (const row of rows) {
      assert.deepEqual(Object.keys(row), ['backbone', 'trainData', 'testData', 'map50', 'map', 'steps', 'trainSeconds', 'trainImagesPerSecond', 'testImagesPerSecond', 'checkpoint']);
      assert.deepEqual([row.trainData, row.testData, row.steps], ['shapes train', 'shapes test', 1]);
      for (const v of [row.map50, row.map]) assert.ok(v >= 0 && v <= 1, `${v}`);
      for (const v of [row.trainSeconds, row.trainImagesPerSecond, row.testImagesPerSecond]) assert.ok(v > 0, `${v}`);
      assert.equal(row.checkpoint, path.join(out, row.backbone, 'checkpoint.safetensors'));
    }

    const lines = formatComparison(rows, 'voc');
    assert.equal(lines.length, 4); // header, rule, one row per backbone
    assert.match(lines[0], /^model +training data +test data +mAP@\.5 \(VOC07\) +mAP@\[\.5,\.95\] +steps +train time +train img\/s +test img\/s$/);
    assert.match(lines[1], /^[- ]+$/);
    for (const [i, row] of rows.entries()) {
      // cells are separated by 2+ spaces (single spaces occur inside "Faster R-CNN resnet18")
      const cells = lines[2 + i].split(/ {2,}/);
      assert.deepEqual(cells.slice(0, 6), [`Faster R-CNN ${row.backbone}`, 'shapes train', 'shapes test', (100 * row.map50).toFixed(1), (100 * row.map).toFixed(1), '1']);
    }
  });
});
