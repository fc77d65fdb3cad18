/**
 * The few numpy routines whose exact floating-point behaviour the reference evaluators depend
 * on, reproduced operation for operation so resdet's metrics match pycocotools to the last bit
 * or close to it (numpy 1.24 sources: core/function_base.py, umath/loops_utils.h.src).
 */

/**
 * `np.linspace(start, stop, num, endpoint)` exactly: `i * step + start` with
 * `step = (stop - start) / div`, and the last value set to `stop` when `endpoint`.
 * This is why pycocotools' IoU thresholds contain 0.8999999999999999 and its recall
 * thresholds 0.35000000000000003: `i * 0.01` is not always the double nearest `i / 100`.
 */
export function linspace(start: number, stop: number, num: number, endpoint = true): number[] {
  if (!Number.isInteger(num) || num < 0) throw new RangeError(`linspace: num must be a non-negative integer, got ${num}`);
  const div = endpoint ? num - 1 : num;
  const delta = stop - start;
  const out = new Array<number>(num);
  if (div > 0) {
    const step = delta / div;
    for (let i = 0; i < num; i++) out[i] = (step === 0 ? (i / div) * delta : i * step) + start;
  } else {
    for (let i = 0; i < num; i++) out[i] = i * delta + start;
  }
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/** `np.round(x)` for the thresholds' counts: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * numpy's pairwise summation (`pairwise_sum` in loops_utils.h.src) of `a[0..n)`: plain loop
 * below 8 values, 8 interleaved accumulators up to 128, and halving (at a multiple of 8) above.
 * `np.sum` / `np.mean` of a contiguous float64 array add exactly this to 0.
 */
export function pairwiseSum(a: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    let r0 = a[start], r1 = a[start + 1], r2 = a[start + 2], r3 = a[start + 3];
    let r4 = a[start + 4], r5 = a[start + 5], r6 = a[start + 6], r7 = a[start + 7];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      r0 += a[start + i];
      r1 += a[start + i + 1];
      r2 += a[start + i + 2];
      r3 += a[start + i + 3];
      r4 += a[start + i + 4];
      r5 += a[start + i + 5];
      r6 += a[start + i + 6];
      r7 += a[start + i + 7];
    }
    let res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** `np.mean` of `a[0..n)` (float64): `(0 + pairwise sum) / n`. */
export function npMean(a: ArrayLike<number>, n: number): number {
  return (0 + pairwiseSum(a, 0, n)) / n;
}
