/**
 * The common currency of the weight readers: a named, dense, row-major float32 array with its
 * shape, plus the byte decoders (float16, bfloat16, float64, integer types -> float32) and the
 * strided gather that turns a PyTorch view (storage, offset, size, stride) into a dense array.
 */
import type { TorchDtype } from './pickle.ts';

/** A dense row-major array read from a weights file, converted to float32. */
export interface WeightArray {
  shape: number[];
  data: Float32Array;
  /** the element type it was stored as (float16 / bfloat16 / float64 are widened or narrowed) */
  sourceDtype: TorchDtype;
}

/** Which layout a reader's arrays are in: PyTorch's (OIHW, [out, in]) or tfjs's (HWIO, [in, out]). */
export type SourceLayout = 'torch' | 'tfjs';

/** What a reader returns: arrays by their name in the file, and their layout. */
export interface WeightFile {
  tensors: Map<string, WeightArray>;
  layout: SourceLayout;
}

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<TorchDtype, number>> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** IEEE 754 half -> float (exact: every half is a float32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal: frac * 2^-14 / 2^10
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Decodes `count` little-endian elements of `dtype` starting at element `start` of `bytes`
 * into float32 (bfloat16 is the top half of a float32, so it widens exactly).
 */
export function decodeElements(bytes: Uint8Array, dtype: TorchDtype, start: number, count: number): Float32Array {
  const size = DTYPE_BYTES[dtype];
  if ((start + count) * size > bytes.length) throw new RangeError(`needs ${(start + count) * size} bytes, storage has ${bytes.length}`);
  const at = bytes.byteOffset + start * size;
  // Fast path: aligned little-endian float32 is already the output (zip storages are 64-byte aligned).
  if (dtype === 'float32' && LITTLE_ENDIAN && at % 4 === 0) return new Float32Array(bytes.buffer.slice(at, at + count * 4));
  const view = new DataView(bytes.buffer, at, count * size);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'float16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
    case 'bfloat16': {
      const f = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        f.setUint32(0, view.getUint16(i * 2, true) << 16);
        out[i] = f.getFloat32(0);
      }
      break;
    }
    case 'float64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'int64':
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
    case 'int32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case 'int16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      break;
    case 'int8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      break;
    case 'uint8':
    case 'bool':
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      break;
  }
  return out;
}

/**
 * Gathers a strided view of a storage into a dense row-major array, as `tensor.contiguous()`.
 * @param storage the decoded storage (float32)
 * @param offset element offset of the view's first element
 * @param shape the view's size
 * @param stride the view's strides, in elements
 */
export function gatherStrided(storage: Float32Array, offset: number, shape: readonly number[], stride: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  if (n === 0) return out;
  // Last index addressed must lie inside the storage (negative strides never occur in torch).
  const last = offset + shape.reduce((acc, s, i) => acc + (s - 1) * stride[i], 0);
  if (offset < 0 || last >= storage.length) throw new RangeError(`view reaches element ${last}, storage has ${storage.length}`);
  const contiguous = shape.every((_, i) => stride[i] === shape.slice(i + 1).reduce((a, b) => a * b, 1) || shape[i] === 1);
  if (contiguous) {
    out.set(storage.subarray(offset, offset + n));
    return out;
  }
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < n; k++) {
    let src = offset;
    for (let d = 0; d < shape.length; d++) src += idx[d] * stride[d];
    out[k] = storage[src];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Permutes a dense row-major array: output dimension i is input dimension `perm[i]`
 * (numpy's transpose). Used for OIHW <-> HWIO and [out, in] <-> [in, out].
 */
export function transposeArray(data: Float32Array, shape: readonly number[], perm: readonly number[]): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const gathered = gatherStrided(data, 0, outShape, perm.map((p) => inStrides[p]));
  return { data: gathered, shape: outShape };
}
