/**
 * safetensors (huggingface/safetensors, docs "The format"): bytes 0..7 are the header length N
 * (unsigned 64-bit little-endian), bytes 8..8+N a UTF-8 JSON object
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}`, then the
 * data; offsets are relative to the byte after the header. Nothing in it is executable, but the
 * header is untrusted: every range is checked against the file size and the dtype/shape, ranges
 * may not overlap (as the format requires; so the arrays read cost at most 4 bytes of float32 per
 * byte of the file), and nesting in the header JSON is limited (io/json.ts).
 *
 * The reader returns float32 arrays (F16, BF16, F64 and integer types are converted). A file
 * written by resdet's trainer (`__metadata__.format == "resdet-checkpoint"`, see
 * src/train/checkpoint.ts) holds tfjs layouts under `model.<name>`; any other file is taken to be
 * in PyTorch's layout, as the safetensors files of the PyTorch ecosystem are.
 *
 * This module works on bytes only (no file access: the browser build reads checkpoints with it);
 * src/weights/safetensors.ts adds the atomic file writer.
 */
import { inputError, quote } from '../errors.ts';
import { checkJsonDepth } from '../io/json-depth.ts';
import { decodeElements, DTYPE_BYTES, type WeightArray, type WeightFile } from './arrays.ts';
import type { TorchDtype } from './pickle.ts';

/** safetensors dtype names -> resdet's element types. */
export const SAFETENSORS_DTYPES: Readonly<Record<string, TorchDtype>> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

/** Header of resdet's training checkpoints (src/train/checkpoint.ts). */
const RESDET_CHECKPOINT = { format: 'resdet-checkpoint', modelPrefix: 'model.' };

/** One tensor of a safetensors header, validated; `begin`/`end` are relative to `dataStart`. */
export interface SafetensorsEntry {
  name: string;
  dtype: TorchDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** What `readSafetensorsHeader` checks beyond what the format itself requires. */
export interface SafetensorsHeaderOptions {
  /**
   * the file that was expected, for the error on a file too short to hold the header length;
   * default 'a safetensors file (8-byte header length)'
   */
  expected?: string;
  /** accepted dtypes (safetensors names, e.g. ['F32', 'I32']); default every dtype of SAFETENSORS_DTYPES */
  dtypes?: readonly string[];
  /**
   * require the layout `encodeSafetensors` (and huggingface's writer) produce: tensors back to
   * back in header order from offset 0, and the data ending exactly at the last tensor's end, so
   * a file with a gap, an overlap or trailing bytes is refused (resdet's checkpoints ask this)
   */
  contiguous?: boolean;
}

/**
 * Reads the header only: tensor entries and metadata, validated against the file size (and the
 * options' stricter checks).
 * @param bytes the whole file
 * @param file its name, for error messages
 * @throws UserError naming the file and the bad field
 */
export function readSafetensorsHeader(bytes: Uint8Array, file: string, opts: SafetensorsHeaderOptions = {}): {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  dataStart: number;
} {
  if (bytes.length < 8) throw inputError(file, '', `expected ${opts.expected ?? 'a safetensors file (8-byte header length)'}, got ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) throw inputError(file, 'header length', `expected at most ${bytes.length - 8} bytes, got ${n} (truncated, or not safetensors)`);
  const dataStart = 8 + Number(n);
  let text: string;
  let header: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch (err) {
    throw inputError(file, 'header', `expected UTF-8 JSON, got an error (${(err as Error).message})`);
  }
  checkJsonDepth(text, file, 'header');
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw inputError(file, 'header', `expected UTF-8 JSON, got an error (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw inputError(file, 'header', `expected a JSON object, got ${quote(header)}`);
  const dtypes = opts.dtypes ?? Object.keys(SAFETENSORS_DTYPES);
  const dataLen = bytes.length - dataStart;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  let next = 0; // where the next tensor must begin when `contiguous`
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw !== null && (typeof raw !== 'object' || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'string'))) {
        throw inputError(file, 'header.__metadata__', `expected an object of strings, got ${quote(raw)}`);
      }
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const where = `tensors[${quote(name)}]`;
    const e = (raw ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = dtypes.includes(String(e.dtype)) ? SAFETENSORS_DTYPES[String(e.dtype)] : undefined;
    if (!dtype) throw inputError(file, `${where}.dtype`, `expected one of ${dtypes.join(', ')}, got ${quote(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw inputError(file, `${where}.shape`, `expected non-negative integers, got ${quote(e.shape)}`);
    const shape = e.shape as number[];
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) throw inputError(file, `${where}.data_offsets`, `expected [begin, end], got ${quote(offs)}`);
    const [begin, end] = offs as [number, number];
    const size = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[dtype];
    if (opts.contiguous && (begin !== next || end !== next + size)) throw inputError(file, `${where}.data_offsets`, `expected [${next}, ${next + size}] for shape [${shape}], got ${quote(offs)}`);
    if (end - begin !== size) throw inputError(file, `${where}.data_offsets`, `expected ${size} bytes for ${e.dtype} [${shape}], got ${quote(offs)}`);
    if (end > dataLen) throw inputError(file, `${where}.data_offsets`, `expected to end within the ${dataLen} data bytes, got ${end} (truncated file)`);
    entries.push({ name, dtype, shape, begin, end });
    next = end;
  }
  if (opts.contiguous && next !== dataLen) throw inputError(file, 'data', `expected ${next} bytes after the header, got ${dataLen}`);
  // Overlapping ranges would let a small file declare the same bytes as many tensors.
  const byBegin = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byBegin.length; i++) {
    const [a, b] = [byBegin[i - 1], byBegin[i]];
    if (b.begin < a.end) throw inputError(file, `tensors[${quote(b.name)}].data_offsets`, `expected a range that no other tensor uses, got [${b.begin}, ${b.end}] overlapping ${quote(a.name)}'s [${a.begin}, ${a.end}]`);
  }
  return { entries, metadata, dataStart };
}

/**
 * Reads a safetensors file into float32 arrays.
 * @param bytes the whole file
 * @param file its name, for error messages
 */
export function readSafetensors(bytes: Uint8Array, file: string): WeightFile {
  const { entries, metadata, dataStart } = readSafetensorsHeader(bytes, file);
  const resdet = metadata.format === RESDET_CHECKPOINT.format;
  const tensors = new Map<string, WeightArray>();
  for (const e of entries) {
    let name = e.name;
    if (resdet) {
      // Trainer checkpoints: keep the model's state, leave the optimizer's momentum behind.
      if (!name.startsWith(RESDET_CHECKPOINT.modelPrefix)) continue;
      name = name.slice(RESDET_CHECKPOINT.modelPrefix.length);
    }
    const count = e.shape.reduce((a, b) => a * b, 1);
    const data = decodeElements(bytes.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, 0, count);
    tensors.set(name, { shape: e.shape, data, sourceDtype: e.dtype });
  }
  return { tensors, layout: resdet ? 'tfjs' : 'torch' };
}

/** A dense row-major array to write: float32 is stored as F32, int32 as I32. */
export interface SafetensorsArray {
  shape: number[];
  data: Float32Array | Int32Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The bytes `writeSafetensors` writes: `{"__metadata__": metadata, name: {dtype, shape,
 * data_offsets}, ...}` in that key order, padded with spaces to a multiple of 8 bytes, then the
 * tensors back to back in map order (the layout `readSafetensorsHeader`'s `contiguous` checks).
 * resdet's checkpoints (src/train/checkpoint.ts) are written by this function.
 */
export function encodeSafetensors(tensors: Map<string, SafetensorsArray>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, t] of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`${name}: shape [${t.shape}] has ${size} elements, data has ${t.data.length}`);
    header[name] = { dtype: t.data instanceof Int32Array ? 'I32' : 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * size] };
    offset += 4 * size;
  }
  let json = JSON.stringify(header);
  const utf8 = new TextEncoder();
  json += ' '.repeat((8 - (utf8.encode(json).length % 8)) % 8);
  const head = utf8.encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const { data } of tensors.values()) {
    // safetensors is little-endian: on such a machine the array's bytes are the file's bytes
    if (LITTLE_ENDIAN) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), p);
    else if (data instanceof Int32Array) for (let i = 0; i < data.length; i++) view.setInt32(p + 4 * i, data[i], true);
    else for (let i = 0; i < data.length; i++) view.setFloat32(p + 4 * i, data[i], true);
    p += data.byteLength;
  }
  return out;
}
