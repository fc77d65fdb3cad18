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
 * negative number, the sign bit of a positive one) and then inverted for descending order.
 * -0 sorts equal to +0, as in numpy's comparisons. NaN must not occur.
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
    // Descending order: invert the ascending key.
    hi[e] = ~h >>> 0;
    lo[e] = ~l >>> 0;
  }
  let cur: Int32Array = items;
  let next: Int32Array = new Int32Array(n);
  const count = new Int32Array(65537);
  for (let pass = 0; pass < 4; pass++) {
    const word = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : 16;
    count.fill(0);
    for (let i = 0; i < n; i++) count[((word[cur[i]] >>> shift) & 0xffff) + 1]++;
    // A digit that is the same for every element does not reorder anything.
    let single = false;
    for (let k = 1; k <= 65536; k++) {
      if (count[k] === n) single = true;
      if (count[k] !== 0) break;
    }
    if (single) continue;
    for (let k = 0; k < 65536; k++) count[k + 1] += count[k];
    for (let i = 0; i < n; i++) {
      const e = cur[i];
      next[count[(word[e] >>> shift) & 0xffff]++] = e;
    }
    const t = cur === items ? new Int32Array(n) : cur;
    cur = next;
    next = t;
  }
  return cur === items ? Int32Array.from(items) : cur;
}
