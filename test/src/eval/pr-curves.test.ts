/** Precision-recall curve data on the hand-worked cases of ./report-cases.ts. */
import assert from 'node:assert/strict';
import { cocoPrCurves, vocEnvelope, vocPrCurves } from '../../../src/eval/pr-curves.ts';
import { vocAp } from '../../../src/eval/voc.ts';
import { tinyCoco, tinyVoc } from './report-cases.ts';

const close = (a: number, b: number, what: string, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${what}: got ${a}, expected ${b}`);
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('src/eval/pr-curves', () => {
  describe('cocoPrCurves', () => {
    const r = tinyCoco();
    const plots = cocoPrCurves(r);

    it('at IoU 0.5: precision 1 up to recall 0.5, then 2/3 (TP, FP, TP over 2 GT)', () => {
      const cat = plots.perClass[0];
      assert.equal(cat.className, 'cat');
      const [c50, cAll] = cat.curves;
      assert.deepEqual(c50.recall, r.params.recThrs);
      // recThrs[50] = 0.5 is reached by recall 1/2: 51 points at precision 1 (up to eps), 50 at 2/3
      c50.precision.forEach((p, i) => close(p, i <= 50 ? 1 : 2 / 3, `precision[${i}]`));
      // its mean is the AP50 in the legend: (51 + 50 * 2/3) / 101
      close(mean(c50.precision), (51 + 100 / 3) / 101, 'mean');
      close(c50.ap, r.perCategory[0].ap50, 'ap50');
      assert.match(c50.label, /^IoU=0\.50 {2}AP50 0\.835$/);
      // averaged over 10 thresholds: the second TP counts at 3 of them (IoU 0.6), so past
      // recall 0.5 the precision is 3 * (2/3) / 10 = 0.2; AP = (51 + 50 * 0.2) / 101 = 61/101
      cAll.precision.forEach((p, i) => close(p, i <= 50 ? 1 : 0.2, `averaged precision[${i}]`));
      close(cAll.ap, 61 / 101, 'ap', 1e-9);
      assert.match(cAll.label, /^IoU=0\.50:0\.95 {2}AP 0\.604$/);
    });

    it('the overall plot averages the categories with GT and skips the others', () => {
      assert.deepEqual(plots.skipped, ['dog, small']);
      assert.equal(plots.perClass.length, 1);
      assert.deepEqual(plots.overall.curves.map((c) => c.precision), plots.perClass[0].curves.map((c) => c.precision));
      assert.deepEqual(plots.overall.curves.map((c) => c.ap), [r.stats[1], r.stats[0]]);
      assert.match(plots.overall.note, /the 1 of 2 categories with GT/);
    });
  });

  describe('vocEnvelope', () => {
    it('steps along the precision envelope with the (0, 0) and (1, 0) sentinels', () => {
      // rec [0.5, 0.5, 1], prec [1, 0.5, 2/3]: envelope 1 on (0, 0.5], 2/3 on (0.5, 1]
      assert.deepEqual(vocEnvelope([0.5, 0.5, 1], [1, 0.5, 2 / 3]), { recall: [0, 0.5, 0.5, 1], precision: [1, 1, 2 / 3, 2 / 3] });
      assert.deepEqual(vocEnvelope([], []), { recall: [0, 1], precision: [0, 0] });
    });

    it('has the area AP of voc_ap under it (random curves)', () => {
      let seed = 7;
      const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      for (let trial = 0; trial < 20; trial++) {
        const n = 1 + Math.floor(rnd() * 30);
        const npos = 1 + Math.floor(rnd() * 10);
        let tp = 0;
        const rec: number[] = [];
        const prec: number[] = [];
        for (let d = 0; d < n; d++) {
          if (tp < npos && rnd() < 0.5) tp++;
          rec.push(tp / npos);
          prec.push(tp / (d + 1));
        }
        const env = vocEnvelope(rec, prec);
        let area = 0;
        for (let i = 0; i < env.recall.length; i += 2) area += (env.recall[i + 1] - env.recall[i]) * env.precision[i];
        close(area, vocAp(rec, prec, false), `trial ${trial}`);
      }
    });
  });

  describe('vocPrCurves', () => {
    const ev = tinyVoc();
    const plots = vocPrCurves(ev.evaluate(), ev.curves());

    it('one plot per class with GT; the others are listed as skipped', () => {
      assert.deepEqual(plots.perClass.map((p) => p.className), ['cat']);
      assert.deepEqual(plots.skipped, ['dog', 'bird']);
      const [env, raw] = plots.perClass[0].curves;
      assert.deepEqual({ recall: env.recall, precision: env.precision }, { recall: [0, 0.5, 0.5, 1], precision: [1, 1, 2 / 3, 2 / 3] });
      // area AP 0.5 * 1 + 0.5 * 2/3; 11-point: 6 points at 1, 5 at 2/3
      assert.match(env.label, /AP 0\.833 \(area\), 0\.848 \(VOC07\)$/);
      assert.deepEqual(raw.recall, [0.5, 0.5, 1]);
      assert.equal(raw.style, 'thin');
    });

    it('the overall curve samples the envelopes at 101 recall points', () => {
      const [c] = plots.overall.curves;
      assert.equal(c.recall.length, 101);
      c.precision.forEach((p, i) => close(p, i <= 50 ? 1 : 2 / 3, `precision[${i}]`));
    });
  });
});
