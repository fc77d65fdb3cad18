/**
 * Stable linear-time sorts of index lists on typed arrays, for evaluators that must reproduce a
 * reference tool's tie order (numpy's stable mergesort) on hundreds of thousands of detections
 * without allocating an object per element.
 */

/** The identity permutation `[0, 1, ..., n-1]`. */
export function iota(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/**
 * Stable counting sort of `items` by a small integer key.
 * @param items [n] element indices, in their current order
 * @param key [any] key of each element (indexed by element, values in 0..numKeys-1)
 * @param numKeys number of distinct keys
 * @returns [n] the items ordered by key, ties in their input order
 */
export function countingSortStable(items: Int32Array, key: Int32Array, numKeys: number): Int32Array {
  const count = new Int32Array(numKeys + 1);
  for (let i = 0; i < items.length; i++) count[key[items[i]] + 1]++;
  for (let k = 0; k < numKeys; k++) count[k + 1] += count[k];
  const out = new Int32Array(items.length);
  for (let i = 0; i < items.length; i++) out[count[key[items[i]]]++] = items[i];
  return out;
}

/**
 * Stable sort of `items` by descending `value` (numpy's `argsort(-value, kind='mergesort')`):
 * an LSD radix sort over the float64 bit patterns, made order-preserving (flip every bit of a
 * negative number, the sign bit of a positive one) and inverted for descending order. Digits
 * are 11 bits (2,048 buckets stay in cache); a digit equal for every item is skipped (the
 * exponent bits of scores in (0, 1) mostly are). -0 sorts equal to +0, as in numpy's
 * comparisons. NaN must not occur.
 * @param items [n] element indices, in their current order (kept for ties)
 * @param value [any] the value of each element (indexed by element)
 */
export function sortByValueDesc(items: Int32Array, value: Float64Array): Int32Array {
  const n = items.length;
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  const hi = new Uint32Array(value.length);
  const lo = new Uint32Array(value.length);
  for (let i = 0; i < n; i++) {
    const e = items[i];
    bits[0] = value[e] + 0; // -0 + 0 is +0
    let h = words[1], l = words[0];
    if (h & 0x80000000) {
      h = ~h;
      l = ~l;
    } else {
      h ^= 0x80000000;
    }
    hi[e] = ~h >>> 0;
    lo[e] = ~l >>> 0;
  }
  let cur: Int32Array = items;
  let next: Int32Array = new Int32Array(n);
  const count = new Int32Array(2049);
  // (word, shift, mask): bits 0-10, 11-21, 22-31 of the low word, then of the high word
  const digits: Array<[Uint32Array, number, number]> = [[lo, 0, 0x7ff], [lo, 11, 0x7ff], [lo, 22, 0x3ff], [hi, 0, 0x7ff], [hi, 11, 0x7ff], [hi, 22, 0x3ff]];
  for (const [word, shift, mask] of digits) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[((word[cur[i]] >>> shift) & mask) + 1]++;
    let single = false;
    for (let k = 1; k <= 2048; k++) {
      if (count[k] === n) single = true;
      if (count[k] !== 0) break;
    }
    if (single) continue;
    for (let k = 0; k < 2048; k++) count[k + 1] += count[k];
    for (let i = 0; i < n; i++) {
      const e = cur[i];
      next[count[(word[e] >>> shift) & mask]++] = e;
    }
    const t = cur === items ? new Int32Array(n) : cur;
    cur = next;
    next = t;
  }
  return cur === items ? Int32Array.from(items) : cur;
}
