/**
 * Top-1 / top-5 evaluation of a classifier over a data set (paper Sec. 3.4 / Table 3-4 report
 * top-1 and top-5 error; single centre crop or the standard 10-crop). Decoding runs ahead of the
 * network: `orderedBatches` builds batch k+1 (sharp decodes on libuv's thread pool) while batch k
 * runs, so the CPU that computes is rarely waiting on JPEGs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { orderedBatches } from '../../datasets/classification/batches.ts';
import type { ClassificationSet } from '../../datasets/classification/records.ts';
import { fuseForInference } from '../../src/nn/fuse.ts';
import { inTopK, prepareInputs, type Classifier } from './predict.ts';

/** Options of `evaluateClassifier`. */
export interface EvaluateOptions {
  /** images per forward pass; default 50 (10-crop: 5 images = 50 crops) */
  batchSize?: number;
  tenCrop?: boolean;
  /** evaluate only `limit` records, evenly spaced over the set (record floor(i * N / limit)), so every class is seen */
  limit?: number;
  /** called after each batch with the number of images done */
  onProgress?: (done: number, total: number) => void;
}

/** Accuracies (fractions in [0, 1]) over the evaluated images. */
export interface EvaluateResult {
  top1: number;
  top5: number;
  images: number;
  /** arg-max class of each evaluated image, in evaluation order */
  predictions: Int32Array;
}

/**
 * Runs `c` over `set` and counts top-1 / top-5 hits. With 10 crops the crops' softmax
 * probabilities are averaged (Krizhevsky et al.'s and Caffe's 10-view testing).
 * Tensor memory is flat: every batch's tensors are freed before the next. The network runs with
 * its batch norms folded into the convolutions (`fuseForInference`; c.model is in eval mode).
 */
export async function evaluateClassifier(c: Classifier, set: ClassificationSet, opts: EvaluateOptions = {}): Promise<EvaluateResult> {
  const crops = opts.tenCrop ? 10 : 1;
  const batchSize = opts.batchSize ?? Math.max(1, Math.floor(50 / crops));
  const all = set.records.length;
  const total = Math.min(opts.limit ?? Infinity, all);
  const records = total === all ? set.records : Array.from({ length: total }, (_, i) => set.records[Math.floor((i * all) / total)]);
  const subset = { ...set, records };
  const s = c.inputSize;
  const predictions = new Int32Array(total);
  let top1 = 0;
  let top5 = 0;
  let done = 0;
  const map = async (i: number): Promise<Float32Array> => {
    const inputs = await prepareInputs(c, records[i], opts.tenCrop);
    if (inputs.length === 1) return inputs[0];
    const out = new Float32Array(inputs.length * s * s * 3);
    inputs.forEach((a, k) => out.set(a, k * a.length));
    return out;
  };
  // BN folded into the convs once for the whole run (src/nn/fuse.ts); freed at the end.
  const fused = fuseForInference(c.model);
  try {
    for await (const batch of orderedBatches(subset, map, [crops, s, s, 3], batchSize)) {
      const n = batch.labels.length;
      const scores = tf.tidy(() => {
        const x = tf.tensor4d(batch.images, [n * crops, s, s, 3]);
        const logits = fused.forward(x) as tf.Tensor2D;
        // One crop: the logits themselves (their ranking is the probabilities'); ten: mean softmax.
        return crops === 1 ? logits : tf.mean(tf.reshape(tf.softmax(logits), [n, crops, -1]), 1);
      });
      const values = (await scores.data()) as Float32Array;
      const classes = scores.shape[1]!;
      scores.dispose();
      for (let i = 0; i < n; i++) {
        const row = values.subarray(i * classes, (i + 1) * classes);
        const label = batch.labels[i];
        if (inTopK(row, label, 1)) top1++;
        if (inTopK(row, label, 5)) top5++;
        let best = 0;
        for (let j = 1; j < classes; j++) if (row[j] > row[best]) best = j;
        predictions[done + i] = best;
      }
      done += n;
      opts.onProgress?.(done, total);
    }
  } finally {
    fused.dispose();
  }
  return { top1: done ? top1 / done : 0, top5: done ? top5 / done : 0, images: done, predictions };
}
