/**
 * Precision-recall curves from the evaluators' results, as plain data for plots (./pr-plot.ts
 * draws them): one plot over all classes and one per class.
 *
 * COCO: the curves are pycocotools' own `precision[T, R, K, A, M]` (the precision envelope sampled
 * at the 101 recall thresholds, area 'all', the summary's maxDets 100), at IoU 0.5 and averaged
 * over IoU 0.50:0.95; the overall curve is the mean over the categories that have GT. So the mean
 * height of each curve is the AP printed beside it (AP50 and AP of the summary and the per-class
 * table).
 *
 * VOC: each class's curve is the precision envelope of voc_eval's `rec`, `prec` with the
 * sentinels (0, 0) and (1, 0), drawn as steps: its area is the class's area AP. The overall curve
 * samples every class's envelope at the recall points 0, 0.01, ..., 1 (precision at the first
 * recall >= r, COCO's interpolation) and averages over the classes with non-difficult GT.
 */
import type { CocoEvalResult } from './coco-evaluator.ts';
import { statSpecs } from './coco-summary.ts';
import type { VocClassCurve, VocEvalResult } from './voc.ts';

/** One curve of a plot. */
export interface PrCurve {
  /** legend text, with the AP the curve stands for */
  label: string;
  /** [P] recall, non-decreasing */
  recall: number[];
  /** [P] precision at each recall */
  precision: number[];
  /** the AP shown in the legend (-1: none) */
  ap: number;
  /** 'main': bold line; 'thin': a thin line behind the main ones */
  style: 'main' | 'thin';
}

/** One plot: a title, a note and its curves. */
export interface PrPlot {
  /** the class name, or '' for the plot over all classes */
  className: string;
  title: string;
  /** one line under the title (what was averaged, counts) */
  note: string;
  curves: PrCurve[];
}

/** The plots of one evaluation: over all classes, then one per class with GT, in class order. */
export interface PrPlots {
  overall: PrPlot;
  perClass: PrPlot[];
  /** classes without a plot (no non-crowd / non-difficult GT) */
  skipped: string[];
}

const f3 = (x: number): string => x.toFixed(3);

/** Index of the IoU threshold equal to `t` (within float noise), or -1. */
function iouIndex(iouThrs: readonly number[], t: number): number {
  return iouThrs.findIndex((v) => Math.abs(v - t) < 1e-12);
}

/**
 * COCO precision-recall curves at IoU 0.5 and averaged over every IoU threshold.
 * @param r the result of `evaluateCoco` (its `precision` is [T, R, K, A, M])
 */
export function cocoPrCurves(r: CocoEvalResult): PrPlots {
  const { T, R, K, A, M } = r.shape;
  const p = r.params;
  const a = Math.max(0, p.areaRngLbl.indexOf('all'));
  const maxDets = statSpecs(p)[0].maxDets;
  const m = p.maxDets.indexOf(maxDets);
  const t50 = iouIndex(p.iouThrs, 0.5);
  const at = (t: number, rr: number, k: number): number => r.precision[(((t * R + rr) * K + k) * A + a) * M + m];
  // A category has GT in the 'all' range exactly when its precision is not -1 (any t, r).
  const valid = Array.from({ length: K }, (_, k) => at(0, 0, k) > -1);
  const ks = valid.flatMap((v, k) => (v ? [k] : []));
  const all = Array.from({ length: T }, (_, t) => t);
  /** [R] mean precision over thresholds `ts` and categories `cats` */
  const curve = (ts: number[], cats: number[]): number[] => Array.from({ length: R }, (_, rr) => {
    let s = 0;
    for (const t of ts) for (const k of cats) s += at(t, rr, k);
    return cats.length > 0 ? s / (ts.length * cats.length) : 0;
  });
  const iouLabel = `IoU=${p.iouThrs[0].toFixed(2)}:${p.iouThrs[T - 1].toFixed(2)}`;
  const pair = (cats: number[], ap50: number, ap: number): PrCurve[] => [
    ...(t50 >= 0 ? [{ label: `IoU=0.50  AP50 ${f3(ap50)}`, recall: [...p.recThrs], precision: curve([t50], cats), ap: ap50, style: 'main' as const }] : []),
    { label: `${iouLabel}  AP ${f3(ap)}`, recall: [...p.recThrs], precision: curve(all, cats), ap, style: 'main' },
  ];
  const common = `precision at ${R} recall thresholds, area all, maxDets ${maxDets}`;
  const overall: PrPlot = {
    className: '',
    title: 'COCO bbox: all categories',
    note: `mean over the ${ks.length} of ${K} categories with GT; ${common}`,
    curves: ks.length > 0 ? pair(ks, r.stats[1], r.stats[0]) : [],
  };
  const perClass: PrPlot[] = [];
  const skipped: string[] = [];
  r.perCategory.forEach((c, k) => {
    if (!valid[k]) {
      skipped.push(c.name);
      return;
    }
    perClass.push({ className: c.name, title: `COCO bbox: ${c.name} (id ${c.categoryId})`, note: common, curves: pair([k], c.ap50, c.ap) });
  });
  return { overall, perClass, skipped };
}

/**
 * voc_eval's precision envelope as a step curve: the points (mrec[i], mpre[i+1]),
 * (mrec[i+1], mpre[i+1]) for the sentinel-padded arrays, whose area is the class's area AP.
 * @param rec [D] recall after each detection
 * @param prec [D] precision after each detection
 */
export function vocEnvelope(rec: ArrayLike<number>, prec: ArrayLike<number>): { recall: number[]; precision: number[] } {
  const n = rec.length;
  const mrec = [0, ...Array.from(rec), 1];
  const mpre = [0, ...Array.from(prec), 0];
  for (let i = n + 1; i > 0; i--) mpre[i - 1] = Math.max(mpre[i - 1], mpre[i]);
  const recall: number[] = [];
  const precision: number[] = [];
  for (let i = 0; i <= n; i++) {
    if (mrec[i + 1] === mrec[i]) continue;
    recall.push(mrec[i], mrec[i + 1]);
    precision.push(mpre[i + 1], mpre[i + 1]);
  }
  return { recall, precision };
}

/** Precision at the first recall >= t, for t = 0, 0.01, ..., 1 (0 where recall never gets there). */
function sampleEnvelope(rec: ArrayLike<number>, prec: ArrayLike<number>, ts: readonly number[]): number[] {
  const n = rec.length;
  const best = new Float64Array(n + 1); // best[i] = max(prec[i..n-1])
  for (let i = n - 1; i >= 0; i--) best[i] = Math.max(best[i + 1], prec[i]);
  let i = 0;
  return ts.map((t) => {
    while (i < n && !(rec[i] >= t)) i++;
    return i < n ? best[i] : 0;
  });
}

/**
 * VOC precision-recall curves (IoU 0.5).
 * @param result `VocEvaluator.evaluate()`
 * @param curves `VocEvaluator.curves()` of the same evaluator
 */
export function vocPrCurves(result: VocEvalResult, curves: readonly VocClassCurve[]): PrPlots {
  const ts = Array.from({ length: 101 }, (_, i) => i / 100);
  const withGt = curves.filter((c) => c.npos > 0);
  const sum = new Array<number>(ts.length).fill(0);
  for (const c of withGt) sampleEnvelope(c.rec, c.prec, ts).forEach((v, i) => (sum[i] += v));
  const overall: PrPlot = {
    className: '',
    title: 'PASCAL VOC: all classes, IoU > 0.5',
    note: `mean of the ${withGt.length} of ${curves.length} classes with GT, each sampled at 101 recall points; mAP over all ${curves.length} classes`,
    curves: withGt.length > 0 ? [{
      label: `mean  mAP ${f3(result.mAPArea)} (area), ${f3(result.mAP07)} (VOC07)`,
      recall: ts, precision: sum.map((s) => s / withGt.length), ap: result.mAPArea, style: 'main',
    }] : [],
  };
  const perClass = withGt.map((c): PrPlot => {
    const env = vocEnvelope(c.rec, c.prec);
    return {
      className: c.name,
      title: `PASCAL VOC: ${c.name}, IoU > 0.5`,
      note: `${c.npos} GT (+${c.numDifficult} difficult), ${c.numDets} detections`,
      curves: [
        { label: `envelope  AP ${f3(c.apArea)} (area), ${f3(c.ap07)} (VOC07)`, ...env, ap: c.apArea, style: 'main' },
        { label: 'precision after each detection', recall: Array.from(c.rec), precision: Array.from(c.prec), ap: -1, style: 'thin' },
      ],
    };
  });
  return { overall, perClass, skipped: curves.filter((c) => c.npos === 0).map((c) => c.name) };
}
