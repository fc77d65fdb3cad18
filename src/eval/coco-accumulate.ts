/**
 * pycocotools' `accumulate()` (cocoeval.py @ 8c9bcc3) over the per-detection outcomes of
 * {@link matchAll}: precision [T, R, K, A, M] and recall [T, K, A, M].
 */
import { TP, FP, type CocoEvalParams, type CocoMatches } from './coco.ts';

/** pycocotools' `eval` arrays. */
export interface CocoAccumulated {
  T: number; R: number; K: number; A: number; M: number;
  /** [T, R, K, A, M] row-major; -1 where a category has no non-ignored GT for that area range */
  precision: Float64Array;
  /** [T, K, A, M] row-major; -1 likewise */
  recall: Float64Array;
}

/** Running counts of one category's detections, per (area, threshold) column. */
interface ColumnCounts {
  /** [AT] TPs so far */
  tpCount: Int32Array;
  /** [AT] FPs so far among detections that could match */
  fpCount: Int32Array;
  /** [A] FPs so far among detections that could match nothing (see CocoMatches.unmatched) */
  unmatchedFp: Int32Array;
  /** [group*maxNk] recall at each TP of each column of the group */
  tpRc: Float64Array;
  /** [group*maxNk] precision at each TP (pycocotools `tp / (fp + tp + eps)`) */
  env: Float64Array;
}

/**
 * The cumulative TP/FP walk of pycocotools' accumulate over detections `sel[0..nd)` (positions
 * in accumulate order) for columns g0..g1, recording pr and rc at each TP. Its own function so
 * that V8 optimises it after a few calls instead of running a long first call interpreted.
 */
function countColumns(m: CocoMatches, sel: Int32Array, nd: number, AT: number, g0: number, g1: number, maxNk: number,
  npOf: Float64Array, colArea: Int32Array, areaLo: Float64Array, areaHi: Float64Array, c: ColumnCounts): void {
  const { state, unmatched, area } = m;
  const { tpCount, fpCount, unmatchedFp, tpRc, env } = c;
  const A = areaLo.length;
  tpCount.fill(0);
  fpCount.fill(0);
  unmatchedFp.fill(0);
  for (let i = 0; i < nd; i++) {
    const p = sel[i];
    if (unmatched[p]) {
      const ar = area[p];
      for (let a = 0; a < A; a++) if (ar >= areaLo[a] && ar <= areaHi[a]) unmatchedFp[a]++;
      continue;
    }
    const row = p * AT;
    for (let at = g0; at < g1; at++) {
      const s = state[row + at];
      if (s === TP) {
        const tp = ++tpCount[at];
        const j = (at - g0) * maxNk + tp - 1;
        tpRc[j] = tp / npOf[at];
        env[j] = tp / (fpCount[at] + unmatchedFp[colArea[at]] + tp + EPS);
      } else if (s === FP) {
        fpCount[at]++;
      }
    }
  }
}

/**
 * pycocotools' `q` for one column: precision at each recall threshold. `env[off..off+tp)` holds
 * pr at the column's TPs (made monotone here, from the right) and `tpRc` their recalls.
 * `searchsorted(rc, recThrs[r], 'left')` over all detections lands on position 0 when
 * rc[0] >= v, otherwise on the first TP whose recall reaches v; past the end, q stays 0 from
 * there on (pycocotools' try/except).
 */
function sampleEnvelope(env: Float64Array, tpRc: Float64Array, off: number, tp: number, nd: number, firstIsTp: boolean, recThrs: number[], recSorted: boolean, q: Float64Array): void {
  const pr0 = firstIsTp ? env[off] : 0; // pr[0] = 0 when the first detection is FP or ignored
  const rc0 = firstIsTp ? tpRc[off] : 0;
  for (let j = off + tp - 2; j >= off; j--) if (env[j + 1] > env[j]) env[j] = env[j + 1];
  q.fill(0);
  let lo = 0;
  for (let r = 0; r < recThrs.length; r++) {
    const v = recThrs[r];
    if (nd > 0 && rc0 >= v) {
      q[r] = tp > 0 ? Math.max(pr0, env[off]) : pr0;
      continue;
    }
    if (recSorted) {
      while (lo < tp && tpRc[off + lo] < v) lo++;
    } else {
      lo = 0;
      let hi = tp;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (tpRc[off + mid] < v) lo = mid + 1;
        else hi = mid;
      }
    }
    if (lo >= tp) return;
    q[r] = env[off + lo];
  }
}

/** numpy's `np.spacing(1)`, the epsilon in pycocotools' precision denominator. */
const EPS = 2.220446049250313e-16;

/**
 * pycocotools' `accumulate()`: per category, area range, maxDets and IoU threshold, the
 * cumulative TP/FP over detections in (descending score, image id, file) order, precision
 * `tp / (tp + fp + eps)` made monotone from the right, sampled at each recall threshold with
 * `searchsorted(recall, recThrs, side='left')` (0 where never reached).
 */
export function accumulate(matches: CocoMatches, params: CocoEvalParams): CocoAccumulated {
  const T = params.iouThrs.length, R = params.recThrs.length, K = matches.catIds.length;
  const A = params.areaRng.length, M = params.maxDets.length;
  const AT = A * T;
  const { catStart, rank, state, npig } = matches;
  const areaLo = Float64Array.from(params.areaRng, (r) => r[0]);
  const areaHi = Float64Array.from(params.areaRng, (r) => r[1]);
  const colArea = Int32Array.from({ length: AT }, (_, at) => Math.floor(at / T));
  const unmatchedFp = new Int32Array(A); // FPs so far from `unmatched` detections, per area range
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  let maxNk = 0;
  for (let k = 0; k < K; k++) maxNk = Math.max(maxNk, catStart[k + 1] - catStart[k]);
  const sel = new Int32Array(maxNk);
  // Per (area, threshold) column `at`: running counts, and pr/rc at each TP (rows of maxNk).
  // Columns are done in groups so these buffers stay below 2^22 entries (64 MB) per array.
  const group = Math.max(1, Math.min(AT, Math.floor(2 ** 22 / Math.max(1, maxNk))));
  const tpCount = new Int32Array(AT);
  const fpCount = new Int32Array(AT);
  const tpRc = new Float64Array(group * maxNk);
  const env = new Float64Array(group * maxNk);
  const npOf = new Float64Array(AT);
  const { recThrs } = params;
  const q = new Float64Array(R);
  const recSorted = recThrs.every((v, i) => i === 0 || v >= recThrs[i - 1]);
  for (let k = 0; k < K; k++) {
    let prevNd = -1;
    for (let a = 0; a < A; a++) for (let t = 0; t < T; t++) npOf[a * T + t] = npig[k * A + a];
    for (let m = 0; m < M; m++) {
      const maxDet = params.maxDets[m];
      let nd = 0;
      for (let p = catStart[k]; p < catStart[k + 1]; p++) if (rank[p] < maxDet) sel[nd++] = p;
      if (nd === prevNd) {
        // No (image, category) holds more than maxDets[m-1] detections: same list, same values.
        for (let a = 0; a < A; a++) {
          for (let t = 0; t < T; t++) {
            const ri = ((t * K + k) * A + a) * M + m;
            recall[ri] = recall[ri - 1];
            for (let r = 0; r < R; r++) {
              const pi = (((t * R + r) * K + k) * A + a) * M + m;
              precision[pi] = precision[pi - 1];
            }
          }
        }
        continue;
      }
      prevNd = nd;
      // One pass over the detections for a group of (area, threshold) columns at once.
      // Precision only rises at a TP (an FP lowers it, an ignored detection keeps it), so the
      // envelope and the recall lookups need pr/rc at the TPs alone, plus pr[0].
      for (let g0 = 0; g0 < AT; g0 += group) {
        const g1 = Math.min(AT, g0 + group);
        countColumns(matches, sel, nd, AT, g0, g1, maxNk, npOf, colArea, areaLo, areaHi, { tpCount, fpCount, unmatchedFp, tpRc, env });
        for (let at = g0; at < g1; at++) {
          const a = Math.floor(at / T), t = at % T;
          const np = npig[k * A + a];
          if (np === 0) continue;
          const tp = tpCount[at];
          const off = (at - g0) * maxNk;
          const firstIsTp = nd > 0 && state[sel[0] * AT + at] === TP;
          recall[((t * K + k) * A + a) * M + m] = nd ? tp / np : 0;
          sampleEnvelope(env, tpRc, off, tp, nd, firstIsTp, recThrs, recSorted, q);
          for (let r = 0; r < R; r++) precision[(((t * R + r) * K + k) * A + a) * M + m] = q[r];
        }
      }
    }
  }
  return { T, R, K, A, M, precision, recall };
}
