/**
 * How a batch of n examples is cut into shards: at most `parts` contiguous runs whose sizes
 * differ by at most one, the first ones larger (7 over 2: 4 + 3), never an empty one (1 over
 * 2: just 1).
 * @returns the shard sizes, in order; they sum to n
 */
export function shardSizes(n: number, parts: number): number[] {
  const k = Math.max(1, Math.min(parts, n));
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}
