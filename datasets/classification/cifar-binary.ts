/**
 * CIFAR-10 binary batches (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version"):
 * `data_batch_1.bin` ... `data_batch_5.bin` (training) and `test_batch.bin`, each a sequence of
 * 3073-byte records: 1 label byte, then 32x32 red, 32x32 green, 32x32 blue (CHW, row-major).
 * Records are converted to HWC pixels once here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { inputError } from '../../src/errors.ts';
import { CIFAR10_CLASSES, type ClassificationRecord, type ClassificationSet } from './records.ts';

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;

/** The training or test files of a CIFAR-10 binary folder. */
export function cifarBinaryFiles(dir: string, split: 'train' | 'test'): string[] {
  return split === 'train' ? [1, 2, 3, 4, 5].map((i) => path.join(dir, `data_batch_${i}.bin`)) : [path.join(dir, 'test_batch.bin')];
}

/**
 * Reads CIFAR-10 binary batch files into records with HWC pixels.
 * @throws UserError naming the file when its size is not a multiple of 3073 or a label is > 9
 */
export function readCifarBinary(files: readonly string[]): ClassificationSet {
  const records: ClassificationRecord[] = [];
  for (const file of files) {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch (err) {
      throw inputError(file, '', `cannot read CIFAR-10 batch (${(err as Error).message})`);
    }
    if (buf.length === 0 || buf.length % RECORD !== 0) throw inputError(file, '', `expected a multiple of ${RECORD} bytes (label + 3x32x32), got ${buf.length}`);
    const n = buf.length / RECORD;
    const hwc = new Uint8Array(n * 3 * PLANE);
    for (let r = 0; r < n; r++) {
      const o = r * RECORD;
      const label = buf[o];
      if (label >= CIFAR10_CLASSES.length) throw inputError(file, `records[${r}].label`, `expected 0..9, got ${label}`);
      const out = r * 3 * PLANE;
      for (let p = 0; p < PLANE; p++) {
        hwc[out + 3 * p] = buf[o + 1 + p];
        hwc[out + 3 * p + 1] = buf[o + 1 + PLANE + p];
        hwc[out + 3 * p + 2] = buf[o + 1 + 2 * PLANE + p];
      }
      records.push({
        id: `${path.basename(file)}[${r}]`,
        image: { kind: 'pixels', pixels: hwc.subarray(out, out + 3 * PLANE), width: SIDE, height: SIDE, channels: 3 },
        label,
      });
    }
  }
  return { source: files.length === 1 ? files[0] : path.dirname(files[0]), classes: [...CIFAR10_CLASSES], records };
}
