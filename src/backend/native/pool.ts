/**
 * Reuse of the native backend's output buffers. A fresh multi-megabyte Float32Array costs far
 * more than the kernel that fills it (V8 zero-fills it, and the kernel's first write faults in
 * every page: 13 ms for a 3.2 MB ReLU output against 0.9 ms to refill a warm one, measured
 * here), and V8 frees it only at some later GC. So the native kernels take their outputs from
 * this pool, and the backend hands a buffer back when tfjs frees the last tensor data that refers
 * to it (tfjs's refCount covers reshapes; `retain`/`release` count the rare cpu kernels that put
 * one array under two dataIds).
 *
 * Only buffers the pool allocated are ever reused: arrays that a user passed to `tf.tensor()`
 * are never recycled, and the backend's readSync returns a copy of a pooled buffer, so a
 * `dataSync()` result stays valid after its tensor is disposed, as on the cpu backend.
 */
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly refs = new WeakMap<Float32Array, number>();
  private readonly ours = new WeakSet<Float32Array>();
  private pooledBytes = 0;

  /** @param capacityBytes the most bytes kept for reuse (beyond it, freed buffers go to the GC) */
  constructor(readonly capacityBytes: number) {}

  /** A buffer of `length` floats with arbitrary contents (the kernel overwrites every element). */
  alloc(length: number): Float32Array {
    const list = this.free.get(length);
    const reused = list?.pop();
    if (list && reused) {
      this.pooledBytes -= reused.byteLength;
      if (list.length > 0) this.touch(length, list);
      else this.free.delete(length);
      return reused;
    }
    const fresh = new Float32Array(length);
    this.ours.add(fresh);
    return fresh;
  }

  /** Whether `values` came from `alloc` (so it may be recycled: readers must copy it). */
  owns(values: unknown): values is Float32Array {
    return values instanceof Float32Array && this.ours.has(values);
  }

  /** Counts one more tensor data entry holding `values`. */
  retain(values: unknown): void {
    if (this.owns(values)) this.refs.set(values, (this.refs.get(values) ?? 0) + 1);
  }

  /** Counts one entry fewer; the last one hands the buffer back for reuse. */
  release(values: unknown): void {
    if (!this.owns(values)) return;
    const n = (this.refs.get(values) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(values, n);
      return;
    }
    this.refs.delete(values);
    if (values.byteLength > this.capacityBytes || values.length === 0) return;
    // Over capacity: the least recently used sizes go first (e.g. the sizes of images that a
    // multi-scale run no longer draws), so the pool follows the working set instead of filling up.
    while (this.pooledBytes + values.byteLength > this.capacityBytes) {
      const [length, oldest] = this.free.entries().next().value as [number, Float32Array[]];
      this.pooledBytes -= (oldest.pop() as Float32Array).byteLength;
      if (oldest.length === 0) this.free.delete(length);
    }
    const list = this.free.get(values.length) ?? [];
    list.push(values);
    this.touch(values.length, list);
    this.pooledBytes += values.byteLength;
  }

  /** Marks size `length` as just used (Map order is the eviction order: oldest first). */
  private touch(length: number, list: Float32Array[]): void {
    this.free.delete(length);
    this.free.set(length, list);
  }

  /** Bytes held for reuse now. */
  get bytes(): number {
    return this.pooledBytes;
  }

  /** Drops every pooled buffer (to the GC). */
  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }
}
