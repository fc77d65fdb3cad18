/**
 * pycocotools' `summarize()` for bbox (the 12 stats and their printed lines) and the usual
 * per-category AP table (detectron2's `_derive_coco_results`), from accumulated arrays.
 */
import type { CocoEvalParams } from './coco.ts';
import type { CocoAccumulated } from './coco-accumulate.ts';
import { npMean } from './numpy.ts';

/** One row of the per-category table; each value is -1 when the category has no non-crowd GT. */
export interface CocoCategoryAp {
  categoryId: number;
  name: string;
  /** mean precision over IoU 0.50:0.95 and recall thresholds, area 'all', the largest summary maxDets */
  ap: number;
  /** the same at IoU 0.5 */
  ap50: number;
  /** the same at IoU 0.75 */
  ap75: number;
  /** mean recall over IoU thresholds, area 'all', the largest summary maxDets */
  ar100: number;
}

/** One of the 12 summary lines: AP or AR, an IoU threshold (or all), an area label, maxDets. */
interface StatSpec {
  ap: boolean;
  iouThr?: number;
  area: string;
  maxDets: number;
}

/**
 * The 12 settings of pycocotools' `_summarizeDets`. Deviation kept deliberately small:
 * pycocotools hard-codes maxDets=100 for stats[0] (so it prints -1 when 100 is not among the
 * user's maxDets); resdet uses maxDets[2] there as for the other "100" entries, which is the same
 * under the defaults [1, 10, 100]. With fewer than 3 maxDets the last one stands in.
 */
export function statSpecs(params: CocoEvalParams): StatSpec[] {
  const md = params.maxDets;
  const at = (i: number) => md[Math.min(i, md.length - 1)];
  const big = at(2);
  return [
    { ap: true, area: 'all', maxDets: big },
    { ap: true, iouThr: 0.5, area: 'all', maxDets: big },
    { ap: true, iouThr: 0.75, area: 'all', maxDets: big },
    { ap: true, area: 'small', maxDets: big },
    { ap: true, area: 'medium', maxDets: big },
    { ap: true, area: 'large', maxDets: big },
    { ap: false, area: 'all', maxDets: at(0) },
    { ap: false, area: 'all', maxDets: at(1) },
    { ap: false, area: 'all', maxDets: big },
    { ap: false, area: 'small', maxDets: big },
    { ap: false, area: 'medium', maxDets: big },
    { ap: false, area: 'large', maxDets: big },
  ];
}

/**
 * Mean of the entries > -1 of precision[t, :, k, a, m] (AP) or recall[t, k, a, m] (AR) over the
 * given t and k, visited in numpy's C order (t, then r, then k) and summed pairwise as np.mean
 * does; -1 when there is no such entry.
 */
export function meanValid(acc: CocoAccumulated, ap: boolean, ts: number[], ks: number[], a: number, m: number): number {
  const { R, K, A, M } = acc;
  const buf = new Float64Array(ts.length * (ap ? R : 1) * ks.length);
  let n = 0;
  for (const t of ts) {
    if (ap) {
      for (let r = 0; r < R; r++) {
        for (const k of ks) {
          const v = acc.precision[(((t * R + r) * K + k) * A + a) * M + m];
          if (v > -1) buf[n++] = v;
        }
      }
    } else {
      for (const k of ks) {
        const v = acc.recall[((t * K + k) * A + a) * M + m];
        if (v > -1) buf[n++] = v;
      }
    }
  }
  return n === 0 ? -1 : npMean(buf, n);
}

/** Indices of `iouThrs` equal to `thr` (pycocotools `np.where(iouThr == p.iouThrs)`), or all. */
function thresholdIndices(params: CocoEvalParams, thr?: number): number[] {
  const all = params.iouThrs.map((_, i) => i);
  return thr === undefined ? all : all.filter((i) => params.iouThrs[i] === thr);
}

/** The 12 stats of `COCOeval.stats`, in pycocotools order. */
export function summarizeStats(acc: CocoAccumulated, params: CocoEvalParams): number[] {
  const ks = Array.from({ length: acc.K }, (_, k) => k);
  return statSpecs(params).map((s) => {
    const a = params.areaRngLbl.indexOf(s.area);
    const m = params.maxDets.indexOf(s.maxDets);
    if (a < 0 || m < 0) return -1;
    return meanValid(acc, s.ap, thresholdIndices(params, s.iouThr), ks, a, m);
  });
}

/**
 * Python's `'{:0.Nf}'.format(x)`: correctly rounded with ties to even on the exact binary
 * value (JS toFixed breaks exact ties upwards, e.g. 0.0625 -> 0.063 where Python gives 0.062).
 */
export function formatFixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  const exact = Math.abs(x).toFixed(Math.min(100, digits + 60));
  const dot = exact.indexOf('.');
  const tail = exact.slice(dot + 1 + digits);
  if (/^50*$/.test(tail)) {
    // An exact tie: keep the even neighbour.
    const down = (Math.sign(x) < 0 ? '-' : '') + exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
    const lastDigit = Number(down[down.length - 1]);
    if (lastDigit % 2 === 0) return down;
  }
  return s;
}

/** The 12 printed lines of pycocotools' `summarize()`, e.g. ` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.302`. */
export function formatSummary(stats: number[], params: CocoEvalParams): string[] {
  return statSpecs(params).map((s, i) => {
    const title = (s.ap ? 'Average Precision' : 'Average Recall').padEnd(18);
    const type = s.ap ? '(AP)' : '(AR)';
    const iou = s.iouThr === undefined
      ? `${formatFixed(params.iouThrs[0], 2)}:${formatFixed(params.iouThrs[params.iouThrs.length - 1], 2)}`
      : formatFixed(s.iouThr, 2);
    return ` ${title} ${type} @[ IoU=${iou.padEnd(9)} | area=${s.area.padStart(6)} | maxDets=${String(s.maxDets).padStart(3)} ] = ${formatFixed(stats[i], 3)}`;
  });
}

/**
 * The per-category table (detectron2 `_derive_coco_results`): for category k, the mean of
 * precision[:, :, k, all, maxDets] > -1 (ap), the same at IoU 0.5 and 0.75, and the mean of
 * recall[:, k, all, maxDets] > -1 (ar100), with maxDets the summary's "100" entry.
 */
export function perCategoryAp(acc: CocoAccumulated, params: CocoEvalParams, categories: ReadonlyArray<{ id: number; name: string }>): CocoCategoryAp[] {
  const byId = new Map(categories.map((c) => [c.id, c.name]));
  const ids = categories.map((c) => c.id).sort((x, y) => x - y);
  const aAll = Math.max(0, params.areaRngLbl.indexOf('all'));
  const m = params.maxDets.indexOf(statSpecs(params)[0].maxDets);
  return ids.map((id, k) => ({
    categoryId: id,
    name: byId.get(id) ?? String(id),
    ap: meanValid(acc, true, thresholdIndices(params), [k], aAll, m),
    ap50: meanValid(acc, true, thresholdIndices(params, 0.5), [k], aAll, m),
    ap75: meanValid(acc, true, thresholdIndices(params, 0.75), [k], aAll, m),
    ar100: meanValid(acc, false, thresholdIndices(params), [k], aAll, m),
  }));
}
