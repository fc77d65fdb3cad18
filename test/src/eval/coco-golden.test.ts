/**
 * Every COCO golden case through the library: all 12 stats and every category's ap / ap50 /
 * ap75 / ar100 within 1e-9, -1 sentinels exactly, the thresholds bit for bit, and the printed
 * summary text identical. Two sources (./golden-sources.ts): the repository's fixtures (always;
 * pycocotools 2.0.11, numpy 1.26) and ../shared/eval-golden when present (pycocotools @ 8c9bcc3,
 * numpy 1.24).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadCocoInstances } from '../../../datasets/coco/annotations.ts';
import { loadCocoResults } from '../../../datasets/coco/results.ts';
import { evaluateCoco } from '../../../src/eval/coco-evaluator.ts';
import { cocoPerClassTable } from '../../../src/eval/per-class-table.ts';
import { assertMetric } from '../../helpers/metrics.ts';
import { requireShared } from '../../helpers/shared.ts';
import { goldenCases, GOLDEN_SOURCES } from './golden-sources.ts';

interface Expected {
  stats: number[];
  /** aps / apm / apl: only in the fixtures (the per-class table's area columns) */
  per_category: Array<{ category_id: number; ap: number; ap50: number; ap75: number; ar100: number; aps?: number; apm?: number; apl?: number }>;
  params: { iouThrs: number[]; recThrs: number[]; maxDets: number[]; areaRng: number[][] };
  pycocotools_summary: string;
}

/** The cases each source must hold (a lost case fails instead of shrinking the suite). */
const CASES: Record<string, string[]> = {
  'fixtures': ['crowd_area_bounds', 'images_without_gt_no_large', 'iou_recall_thresholds', 'over_100_dets', 'tied_scores'],
  '../shared': ['coco_noncontiguous_ids', 'crowd_regions', 'images_without_gt', 'jitter_moderate', 'large_20cats_200imgs', 'perfect'],
};

for (const source of GOLDEN_SOURCES) {
  describe(`eval/coco golden cases (pycocotools), ${source.label}`, function () {
    const root = path.join(source.dir, 'coco');
    if (!source.required) before(function () { requireShared(this, root); });
    const cases = goldenCases(source, 'coco');

    it(`has the ${CASES[source.label].length} golden cases`, () => {
      assert.deepEqual(cases, CASES[source.label]);
    });

    for (const name of cases) {
      it(`${name}: 12 stats, per-category AP/AP50/AP75/AR100 and the summary text`, () => {
        const dir = path.join(root, name);
        const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expected;
        const gt = loadCocoInstances(path.join(dir, 'gt.json'));
        const dets = loadCocoResults(path.join(dir, 'dets.json'), gt);
        const r = evaluateCoco(gt, dets);
        // The thresholds are numpy's linspace values, bit for bit.
        assert.deepEqual(r.params.iouThrs, expected.params.iouThrs);
        assert.deepEqual(r.params.recThrs, expected.params.recThrs);
        assert.deepEqual(r.params.maxDets, expected.params.maxDets);
        assert.deepEqual(r.params.areaRng, expected.params.areaRng);
        assert.equal(r.stats.length, 12);
        r.stats.forEach((s, i) => assertMetric(s, expected.stats[i], `${name} stats[${i}]`));
        assert.equal(r.perCategory.length, expected.per_category.length);
        for (const want of expected.per_category) {
          const got = r.perCategory.find((c) => c.categoryId === want.category_id);
          assert.ok(got, `${name}: category ${want.category_id} missing`);
          for (const key of ['ap', 'ap50', 'ap75', 'ar100'] as const) assertMetric(got[key], want[key], `${name} category ${want.category_id} ${key}`);
        }
        assert.equal(r.summary.join('\n'), expected.pycocotools_summary);
        // the per-class table (`--per-class`): its area columns where the case has them
        const table = cocoPerClassTable(r);
        const col = (name: string): number => table.columns.indexOf(name);
        for (const want of expected.per_category) {
          const row = table.rows.find((x) => x[1] === String(want.category_id))!;
          for (const [key, name] of [['ap', 'AP'], ['ap50', 'AP50'], ['ap75', 'AP75'], ['aps', 'APs'], ['apm', 'APm'], ['apl', 'APl'], ['ar100', 'AR100']] as const) {
            const w = want[key];
            if (w !== undefined) assertMetric(row[col(name)] as number, w, `${name} of category ${want.category_id} in the per-class table`);
          }
        }
      });
    }
  });
}
