/**
 * MNIST idx files (http://yann.lecun.com/exdb/mnist/): big-endian headers, magic 0x00000803 for
 * images (count, rows, cols, then bytes) and 0x00000801 for labels (count, then bytes); gzipped
 * (`.gz`, detected by its magic bytes) or not.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { inputError } from '../../src/errors.ts';
import type { ClassificationRecord, ClassificationSet } from './records.ts';

function readMaybeGzip(file: string): Buffer {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw inputError(file, '', `cannot read idx file (${(err as Error).message})`);
  }
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      return zlib.gunzipSync(buf);
    } catch (err) {
      throw inputError(file, '', `expected gzip data, got a decompression error (${(err as Error).message})`);
    }
  }
  return buf;
}

/**
 * Reads an MNIST image file and its label file into records with [28, 28, 1] pixels.
 * @throws UserError naming the file and header field that is wrong
 */
export function readMnist(imagesFile: string, labelsFile: string): ClassificationSet {
  const img = readMaybeGzip(imagesFile);
  const lab = readMaybeGzip(labelsFile);
  if (img.length < 16 || img.readUInt32BE(0) !== 0x803) throw inputError(imagesFile, 'header.magic', `expected 0x00000803 (idx3 unsigned bytes), got ${img.length < 4 ? 'a short file' : `0x${img.readUInt32BE(0).toString(16).padStart(8, '0')}`}`);
  if (lab.length < 8 || lab.readUInt32BE(0) !== 0x801) throw inputError(labelsFile, 'header.magic', `expected 0x00000801 (idx1 unsigned bytes), got ${lab.length < 4 ? 'a short file' : `0x${lab.readUInt32BE(0).toString(16).padStart(8, '0')}`}`);
  const [n, rows, cols] = [img.readUInt32BE(4), img.readUInt32BE(8), img.readUInt32BE(12)];
  if (img.length !== 16 + n * rows * cols) throw inputError(imagesFile, 'data', `expected ${16 + n * rows * cols} bytes for ${n} images of ${rows}x${cols}, got ${img.length}`);
  const nl = lab.readUInt32BE(4);
  if (nl !== n) throw inputError(labelsFile, 'header.count', `expected ${n} labels (as many as images), got ${nl}`);
  if (lab.length !== 8 + n) throw inputError(labelsFile, 'data', `expected ${8 + n} bytes, got ${lab.length}`);
  const pixels = new Uint8Array(img.buffer, img.byteOffset + 16, n * rows * cols);
  const records: ClassificationRecord[] = [];
  for (let i = 0; i < n; i++) {
    const label = lab[8 + i];
    if (label > 9) throw inputError(labelsFile, `labels[${i}]`, `expected 0..9, got ${label}`);
    const o = i * rows * cols;
    records.push({ id: `${i}`, image: { kind: 'pixels', pixels: pixels.subarray(o, o + rows * cols), width: cols, height: rows, channels: 1 }, label });
  }
  return { source: imagesFile, classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], records };
}
