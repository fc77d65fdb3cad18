/**
 * The largest difference between resdet's evaluators and the reference numbers of golden case
 * folders (the evidence quoted in docs/evaluation.md):
 *
 *     npx tsx tools/parity/eval-golden-diff.ts [ROOT ...]
 *
 * ROOT defaults to test/fixtures/eval-golden and ../shared/eval-golden (skipped when absent).
 * For each it compares every COCO stat, every per-category ap/ap50/ap75/ar100 (and aps/apm/apl of
 * the per-class table where the case has them), every VOC class AP (both metrics) and both mAPs,
 * and prints one line: the number of values and the largest absolute difference. A -1 on one
 * side only is an error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCocoInstances } from '../../datasets/coco/annotations.ts';
import { loadCocoResults } from '../../datasets/coco/results.ts';
import { VOC_CLASSES } from '../../datasets/voc/classes.ts';
import { loadVocDataset } from '../../datasets/voc/devkit.ts';
import { readVocResultsDir } from '../../datasets/voc/results.ts';
import { evaluateCoco } from '../../src/eval/coco-evaluator.ts';
import { cocoPerClassTable } from '../../src/eval/per-class-table.ts';
import { VocEvaluator } from '../../src/eval/voc.ts';

type Pair = [got: number, want: number, what: string];

function cocoPairs(dir: string): Pair[] {
  const e = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  const gt = loadCocoInstances(path.join(dir, 'gt.json'));
  const r = evaluateCoco(gt, loadCocoResults(path.join(dir, 'dets.json'), gt));
  const table = cocoPerClassTable(r);
  const pairs: Pair[] = r.stats.map((s, i) => [s, e.stats[i], `stats[${i}]`]);
  for (const w of e.per_category) {
    const g = r.perCategory.find((x) => x.categoryId === w.category_id);
    const row = table.rows.find((x) => x[1] === String(w.category_id));
    if (!g || !row) throw new Error(`${dir}: category ${w.category_id} missing`);
    for (const k of ['ap', 'ap50', 'ap75', 'ar100'] as const) pairs.push([g[k], w[k], `category ${w.category_id} ${k}`]);
    for (const [k, col] of [['aps', 'APs'], ['apm', 'APm'], ['apl', 'APl']] as const) {
      if (w[k] !== undefined) pairs.push([row[table.columns.indexOf(col)] as number, w[k], `category ${w.category_id} ${k}`]);
    }
  }
  return pairs;
}

function vocPairs(dir: string): Pair[] {
  const e = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  const ds = loadVocDataset({ root: dir, split: 'test' });
  const ev = new VocEvaluator(ds.images, { classes: VOC_CLASSES });
  ev.process(readVocResultsDir(path.join(dir, 'results'), VOC_CLASSES, new Set(ds.images.map((im) => im.id))));
  const r = ev.evaluate();
  const pairs: Pair[] = [[r.mAP07, e.mAP_07, 'mAP07'], [r.mAPArea, e.mAP_area, 'mAPArea']];
  for (const c of r.perClass) pairs.push([c.ap07, e.per_class[c.name].ap_07, `${c.name} ap07`], [c.apArea, e.per_class[c.name].ap_area, `${c.name} apArea`]);
  return pairs;
}

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const roots = process.argv.length > 2 ? process.argv.slice(2) : [path.join(repo, 'test/fixtures/eval-golden'), path.resolve(repo, '../shared/eval-golden')];
for (const root of roots) {
  if (!fs.existsSync(root)) {
    console.log(`${root}: absent, skipped`);
    continue;
  }
  for (const [kind, pairsOf] of [['coco', cocoPairs], ['voc', vocPairs]] as const) {
    const dir = path.join(root, kind);
    const cases = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
    let n = 0;
    let worst = 0;
    for (const c of cases) {
      for (const [got, want, what] of pairsOf(path.join(dir, c))) {
        if ((got === -1) !== (want === -1)) throw new Error(`${kind}/${c} ${what}: got ${got}, expected ${want} (a -1 sentinel on one side only)`);
        n++;
        worst = Math.max(worst, Math.abs(got - want));
      }
    }
    console.log(`${path.join(root, kind)}: ${cases.length} cases, ${n} values, largest |resdet - reference| = ${worst}`);
  }
}
