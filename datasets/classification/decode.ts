/**
 * Decoding records to RGB pixels: files through sharp (libvips, which runs on libuv's thread
 * pool, so several decodes overlap each other and the training step), in-memory pixels as they
 * are. Small fixed-size sets (CIFAR-10 as 50,000 JPEGs) are decoded once into one
 * `Uint8Array(N * H * W * C)` by `PixelCache`.
 */
import sharp from 'sharp';
import { inputError } from '../../src/errors.ts';
import type { ClassificationRecord, ClassificationSet } from './records.ts';

/** Decoded pixels, row-major HWC, uint8. */
export interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** Converts 1- or 4-channel pixels to 3 channels (grey repeated, alpha dropped). */
export function toRgb(p: Pixels): Pixels {
  if (p.channels === 3) return p;
  const n = p.width * p.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[3 * i + c] = p.data[i * p.channels + (p.channels === 1 ? 0 : c)];
  }
  return { data: out, width: p.width, height: p.height, channels: 3 };
}

/**
 * Decodes a record's image.
 * @param channels 3 for RGB (grey and alpha converted), or the source's own channel count
 * @throws UserError naming the record when the file cannot be decoded
 */
export async function decodeRecord(record: ClassificationRecord, channels: 3 | 'source' = 3): Promise<Pixels> {
  let p: Pixels;
  if (record.image.kind === 'pixels') {
    const { pixels, width, height } = record.image;
    p = { data: pixels, width, height, channels: record.image.channels };
  } else {
    try {
      const { data, info } = await sharp(record.image.path).raw().toBuffer({ resolveWithObject: true });
      p = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels };
    } catch (err) {
      throw inputError(record.image.path, `records[${JSON.stringify(record.id)}]`, `expected an image sharp can decode, got an error (${(err as Error).message})`);
    }
  }
  return channels === 3 ? toRgb(p) : p;
}

/**
 * Decodes each image of a fixed-size set once and keeps the pixels in one array (CIFAR-10:
 * 50,000 x 32 x 32 x 3 = 154 MB). Images decode lazily on first use, so the first epoch's
 * prefetching overlaps decoding with training, and later epochs read memory.
 */
export class PixelCache {
  readonly data: Uint8Array;
  private readonly done: Uint8Array;
  private readonly pending = new Map<number, Promise<Uint8Array>>();
  private readonly sampleSize: number;

  constructor(
    readonly set: ClassificationSet,
    readonly width: number,
    readonly height: number,
    readonly channels = 3,
  ) {
    this.sampleSize = width * height * channels;
    this.data = new Uint8Array(set.records.length * this.sampleSize);
    this.done = new Uint8Array(set.records.length);
  }

  /**
   * The pixels of record `i` ([H, W, C] view into the cache).
   * @throws UserError when the image is not `width` x `height`
   */
  async get(i: number): Promise<Uint8Array> {
    const o = i * this.sampleSize;
    if (this.done[i]) return this.data.subarray(o, o + this.sampleSize);
    let p = this.pending.get(i);
    if (!p) {
      p = (async () => {
        const r = this.set.records[i];
        const px = await decodeRecord(r, this.channels === 3 ? 3 : 'source');
        if (px.width !== this.width || px.height !== this.height || px.channels !== this.channels) {
          throw inputError(r.image.kind === 'file' ? r.image.path : this.set.source, `records[${JSON.stringify(r.id)}]`, `expected a ${this.width}x${this.height}x${this.channels} image, got ${px.width}x${px.height}x${px.channels}`);
        }
        this.data.set(px.data, o);
        this.done[i] = 1;
        this.pending.delete(i);
        return this.data.subarray(o, o + this.sampleSize);
      })();
      this.pending.set(i, p);
    }
    return p;
  }

  /** Decodes every image (e.g. before computing a per-pixel mean), `concurrency` at a time. */
  async fill(concurrency = 16): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < this.set.records.length) await this.get(next++);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
}
