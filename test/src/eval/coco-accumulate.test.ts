/**
 * accumulate (the optimised TP-only envelope, one pass per category over all columns, unmatched
 * detections counted by area) against a line-by-line port of pycocotools' accumulate on random
 * outcomes: every precision and recall entry must be identical.
 */
import assert from 'node:assert/strict';
import { accumulate } from '../../../src/eval/coco-accumulate.ts';
import { cocoEvalParams, FP, IGNORED, TP, type CocoMatches } from '../../../src/eval/coco.ts';

describe('eval/coco-accumulate', () => {
  it('accumulate equals a line-by-line port of pycocotools accumulate on random outcomes', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const p = cocoEvalParams({ maxDets: [1, 3, 100] });
    const T = 10, A = 4, K = 3;
    const perCat = [40, 0, 25];
    const N = perCat.reduce((x, y) => x + y, 0);
    const catStart = Int32Array.of(0, 40, 40, 65);
    const rank = Int32Array.from({ length: N }, () => Math.floor(rand() * 5));
    const state = Uint8Array.from({ length: A * T * N }, () => [TP, FP, IGNORED][Math.floor(rand() * 3)]);
    const npig = Int32Array.from({ length: K * A }, (_, i) => (i % 4 === 3 ? 0 : 5 + (i % 7)));
    // A third of the detections match nothing: FP inside each area range, IGNORED outside, at
    // every threshold (accumulate counts those from `area` without reading `state`).
    const area = Float64Array.from({ length: N }, () => [100, 1024, 5000, 9216, 20000][Math.floor(rand() * 5)]);
    const unmatched = Uint8Array.from({ length: N }, () => (rand() < 0.33 ? 1 : 0));
    for (let q = 0; q < N; q++) {
      if (!unmatched[q]) continue;
      for (let a = 0; a < A; a++) {
        const inside = area[q] >= p.areaRng[a][0] && area[q] <= p.areaRng[a][1];
        for (let t = 0; t < T; t++) state[(q * A + a) * T + t] = inside ? FP : IGNORED;
      }
    }
    const m: CocoMatches = { catIds: [1, 2, 3], imgIds: [1], N, catStart, rank, state, npig, unmatched, area };
    const acc = accumulate(m, p);
    const R = 101, M = 3;
    for (let k = 0; k < K; k++) for (let a = 0; a < A; a++) for (let mi = 0; mi < M; mi++) for (let t = 0; t < T; t++) {
      // pycocotools: tps/fps cumsum over the category's detections, pr envelope, searchsorted, try/except
      const sel = [];
      for (let q = catStart[k]; q < catStart[k + 1]; q++) if (rank[q] < p.maxDets[mi]) sel.push(q);
      const np = npig[k * A + a];
      const wantRecall = np === 0 ? -1 : (() => {
        let tp = 0;
        for (const q of sel) if (state[(q * A + a) * T + t] === TP) tp++;
        return sel.length ? tp / np : 0;
      })();
      const q = new Array(R).fill(np === 0 ? -1 : 0);
      if (np > 0) {
        let tp = 0, fp = 0;
        const rc: number[] = [], pr: number[] = [];
        for (const s of sel) {
          const st = state[(s * A + a) * T + t];
          if (st === TP) tp++;
          if (st === FP) fp++;
          rc.push(tp / np);
          pr.push(tp / (fp + tp + 2.220446049250313e-16));
        }
        for (let i = pr.length - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
        for (let r = 0; r < R; r++) {
          const idx = rc.findIndex((v) => v >= p.recThrs[r]);
          if (idx < 0) break;
          q[r] = pr[idx];
        }
      }
      assert.equal(acc.recall[((t * K + k) * A + a) * M + mi], wantRecall, `recall t${t} k${k} a${a} m${mi}`);
      for (let r = 0; r < R; r++) assert.equal(acc.precision[(((t * R + r) * K + k) * A + a) * M + mi], q[r], `precision t${t} r${r} k${k} a${a} m${mi}`);
    }
  });
});
