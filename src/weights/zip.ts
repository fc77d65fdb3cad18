/**
 * A minimal read-only zip reader over a file's bytes: the central directory (with zip64 sizes
 * and offsets), stored and deflate entries. Enough for PyTorch's zip checkpoints (torch >= 1.6
 * writes stored entries, 64-byte aligned, with miniz), and strict about offsets so a corrupt or
 * hostile archive fails with an error instead of reading outside the file. Deflated entries may
 * inflate to at most {@link MAX_INFLATE_RATIO} times the archive's size in all (a zip bomb
 * inflates a thousandfold; weights compress by a few percent), checked before inflating.
 */
import zlib from 'node:zlib';
import { cut, UserError } from '../errors.ts';

/** One entry of the central directory. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** Bytes all deflated entries of an archive may inflate to, per byte of the archive. */
export const MAX_INFLATE_RATIO = 32;

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CDIR_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;

/** True when the bytes start with a zip local file header ("PK\x03\x04"). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** A zip archive held in memory. */
export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;
  /** bytes inflated so far, against MAX_INFLATE_RATIO */
  private inflated = 0;

  /**
   * @param bytes the whole file
   * @param file its name, for error messages
   */
  constructor(private readonly bytes: Uint8Array, private readonly file: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.readCentralDirectory();
  }

  private fail(what: string): never {
    throw new UserError(`${this.file}: zip: ${what}`);
  }

  private u16(at: number): number {
    if (at + 2 > this.bytes.length) this.fail(`offset ${at} beyond the end of the file`);
    return this.view.getUint16(at, true);
  }

  private u32(at: number): number {
    if (at + 4 > this.bytes.length) this.fail(`offset ${at} beyond the end of the file`);
    return this.view.getUint32(at, true);
  }

  private u64(at: number): number {
    if (at + 8 > this.bytes.length) this.fail(`offset ${at} beyond the end of the file`);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`64-bit value at ${at} too large`);
    return Number(v);
  }

  private readCentralDirectory(): void {
    // The end-of-central-directory record is in the last 22 + 65535 (comment) bytes.
    let eocd = -1;
    for (let i = this.bytes.length - 22; i >= Math.max(0, this.bytes.length - 22 - 65535); i--) {
      if (this.view.getUint32(i, true) === EOCD_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) this.fail('no end-of-central-directory record (truncated file?)');
    let count = this.u16(eocd + 10);
    let cdirSize = this.u32(eocd + 12);
    let cdirOffset = this.u32(eocd + 16);
    if (eocd >= 20 && this.u32(eocd - 20) === ZIP64_LOCATOR_SIG) {
      const z = this.u64(eocd - 20 + 8);
      if (this.u32(z) !== ZIP64_EOCD_SIG) this.fail('bad zip64 end-of-central-directory record');
      count = this.u64(z + 32);
      cdirSize = this.u64(z + 40);
      cdirOffset = this.u64(z + 48);
    }
    if (cdirOffset + cdirSize > this.bytes.length) this.fail(`central directory [${cdirOffset}, +${cdirSize}) lies outside the file (${this.bytes.length} bytes)`);
    let p = cdirOffset;
    for (let i = 0; i < count; i++) {
      if (this.u32(p) !== CDIR_SIG) this.fail(`central directory entry ${i} has a bad signature`);
      const method = this.u16(p + 10);
      let compressedSize = this.u32(p + 20);
      let size = this.u32(p + 24);
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      let localHeaderOffset = this.u32(p + 42);
      if (p + 46 + nameLen > this.bytes.length) this.fail(`central directory entry ${i} runs past the end`);
      const name = new TextDecoder().decode(this.bytes.subarray(p + 46, p + 46 + nameLen));
      // Zip64 extra field (id 1): the 0xffffffff fields, in order size, compressed, offset.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = this.u16(e);
        const len = this.u16(e + 2);
        if (id === 1) {
          let q = e + 4;
          if (size === 0xffffffff) { size = this.u64(q); q += 8; }
          if (compressedSize === 0xffffffff) { compressedSize = this.u64(q); q += 8; }
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = this.u64(q);
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
      p = extraEnd + commentLen;
    }
  }

  /** The uncompressed bytes of an entry (a view into the file for stored entries). */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) this.fail(`no entry '${cut(name)}'`);
    const h = entry.localHeaderOffset;
    if (this.u32(h) !== LOCAL_SIG) this.fail(`entry '${cut(name)}': bad local header at ${h}`);
    const start = h + 30 + this.u16(h + 26) + this.u16(h + 28);
    const end = start + entry.compressedSize;
    if (end > this.bytes.length) this.fail(`entry '${cut(name)}' [${start}, ${end}) lies outside the file (${this.bytes.length} bytes)`);
    const raw = this.bytes.subarray(start, end);
    if (entry.method === 0) return raw;
    if (entry.method === 8) {
      this.inflated += entry.size;
      if (this.inflated > MAX_INFLATE_RATIO * this.bytes.length) {
        this.fail(`entry '${cut(name)}': inflating it would make ${this.inflated} bytes, more than ${MAX_INFLATE_RATIO} times this ${this.bytes.length}-byte archive; refusing to (a zip bomb?)`);
      }
      let out: Buffer;
      try {
        out = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(entry.size, 1) });
      } catch (err) {
        // corrupt data (Z_DATA_ERROR), or more output than the directory declares
        return this.fail(`entry '${cut(name)}': cannot inflate it (${(err as Error).message})`);
      }
      if (out.length !== entry.size) this.fail(`entry '${cut(name)}': inflated ${out.length} bytes, directory says ${entry.size}`);
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    }
    return this.fail(`entry '${cut(name)}': compression method ${entry.method} is not supported (stored or deflate only)`);
  }
}
