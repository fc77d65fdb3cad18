/**
 * Every VOC golden case through the library (the devkit loader, the results reader, VocEvaluator):
 * each class's GT counts and both APs, and both 20-class mAPs, within 1e-9. Two sources
 * (./golden-sources.ts): the repository's fixtures (always; voc_eval of tools/parity/voc_eval.py)
 * and ../shared/eval-golden when present (voc_eval of detectron2 @ 02b5c4e).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { VOC_CLASSES } from '../../../datasets/voc/classes.ts';
import { loadVocDataset } from '../../../datasets/voc/devkit.ts';
import { readVocResultsDir } from '../../../datasets/voc/results.ts';
import { VocEvaluator } from '../../../src/eval/voc.ts';
import { assertMetric } from '../../helpers/metrics.ts';
import { requireShared } from '../../helpers/shared.ts';
import { goldenCases, GOLDEN_SOURCES } from './golden-sources.ts';

/** The cases each source must hold. */
const CASES: Record<string, string[]> = {
  'fixtures': ['voc_jitter_ties', 'voc_matching_rules', 'voc_recall_points'],
  '../shared': ['voc_classes_without_dets', 'voc_difficult_heavy', 'voc_jitter', 'voc_large'],
};

for (const source of GOLDEN_SOURCES) {
  describe(`eval/voc golden cases (voc_eval), ${source.label}`, function () {
    const dir = path.join(source.dir, 'voc');
    if (!source.required) before(function () { requireShared(this, dir); });
    const cases = goldenCases(source, 'voc');

    it(`has the ${CASES[source.label].length} golden cases`, () => {
      assert.deepEqual(cases, CASES[source.label]);
    });

    for (const name of cases) {
      it(`${name}: every class AP and both mAPs within 1e-9`, () => {
        const root = path.join(dir, name);
        const expected = JSON.parse(fs.readFileSync(path.join(root, 'expected.json'), 'utf8'));
        const ds = loadVocDataset({ root, split: 'test' });
        const dets = readVocResultsDir(path.join(root, 'results'), VOC_CLASSES, new Set(ds.images.map((im) => im.id)));
        const ev = new VocEvaluator(ds.images, { classes: VOC_CLASSES });
        ev.process(dets);
        const r = ev.evaluate();
        assert.deepEqual(r.classes, expected.classes);
        for (const c of r.perClass) {
          const e = expected.per_class[c.name];
          assert.deepEqual([c.npos, c.numDets, c.numDifficult], [e.npos, e.num_dets, e.num_difficult], c.name);
          assertMetric(c.ap07, e.ap_07, `${name} ${c.name} ap07`);
          assertMetric(c.apArea, e.ap_area, `${name} ${c.name} apArea`);
        }
        assertMetric(r.mAP07, expected.mAP_07, `${name} mAP07`);
        assertMetric(r.mAPArea, expected.mAP_area, `${name} mAPArea`);
      });
    }
  });
}
