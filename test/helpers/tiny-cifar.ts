/** A tiny CIFAR-10 binary folder for training tests, and the tensor bytes of a checkpoint. */
import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes a CIFAR-10 binary folder of random pixels: 5 training batches of 8 images (labels
 * 0..7) and a test batch of 8, each record 1 label byte + 3072 pixel bytes.
 */
export function writeTinyCifar(dir: string): void {
  let seed = 1;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
  const batch = (n: number): Buffer => {
    const b = Buffer.alloc(n * 3073);
    for (let i = 0; i < n; i++) {
      b[i * 3073] = i % 10;
      for (let k = 1; k < 3073; k++) b[i * 3073 + k] = rand();
    }
    return b;
  };
  for (const i of [1, 2, 3, 4, 5]) fs.writeFileSync(path.join(dir, `data_batch_${i}.bin`), batch(8));
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), batch(8));
}

/** The tensor bytes of a checkpoint (everything after its JSON header), to compare runs bit for bit. */
export function checkpointTensorBytes(file: string): Buffer {
  const buf = fs.readFileSync(file);
  return buf.subarray(8 + Number(buf.readBigUInt64LE(0)));
}
