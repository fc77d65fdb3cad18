/**
 * The classification task for the trainer: softmax cross-entropy on the logits of a backbone
 * (paper Sec. 3.4 / 4.2) and the top-1 error of the batch as a metric.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '../nn/index.ts';
import type { StepOutput, TrainTask } from './trainer.ts';

/** A batch of preprocessed images and their labels, as host arrays. */
export interface ClassificationBatch {
  /** [N, H, W, C] (or [N, D] for vector inputs), row-major */
  images: Float32Array;
  shape: number[];
  /** [N] class indices */
  labels: Int32Array;
}

/**
 * Mean softmax cross-entropy and top-1 error rate.
 * @param logits [N, K]
 * @param labels [N] int32 class indices
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): { loss: tf.Scalar; error: tf.Scalar } {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const logp = tf.logSoftmax(logits);
    const loss = tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, k), logp), 1))) as tf.Scalar;
    const error = tf.mean(tf.cast(tf.notEqual(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar;
    return { loss, error };
  });
}

/** The trainer task of a classifier: `model.forward(images)` gives [N, K] logits. */
export function classificationTask(model: Layer): TrainTask<ClassificationBatch> {
  return {
    step(batch: ClassificationBatch): StepOutput {
      const x = tf.tensor(batch.images, batch.shape, 'float32');
      const y = tf.tensor1d(batch.labels, 'int32');
      const { loss, error } = softmaxCrossEntropy(model.forward(x) as tf.Tensor2D, y);
      return { loss, metrics: { error }, examples: batch.labels.length };
    },
  };
}

/**
 * Top-1 and top-5 error of `model` (in eval mode, the caller's job) over batches.
 * @returns counts of images, top-1 and top-5 errors
 */
export async function classificationErrors(model: Layer, batches: AsyncIterable<ClassificationBatch> | Iterable<ClassificationBatch>): Promise<{ images: number; top1Errors: number; top5Errors: number }> {
  let images = 0;
  let top1Errors = 0;
  let top5Errors = 0;
  for await (const b of batches) {
    const [e1, e5] = tf.tidy(() => {
      const logits = model.forward(tf.tensor(b.images, b.shape, 'float32')) as tf.Tensor2D;
      const labels = tf.tensor1d(b.labels, 'int32');
      const k = Math.min(5, logits.shape[1]);
      const { indices } = tf.topk(logits, k);
      const hits = tf.cast(tf.equal(indices, tf.expandDims(labels, 1)), 'float32');
      const top1 = tf.sum(tf.sub(1, tf.slice(hits, [0, 0], [-1, 1])));
      const top5 = tf.sum(tf.sub(1, tf.sum(hits, 1)));
      return [top1.dataSync()[0], top5.dataSync()[0]];
    });
    images += b.labels.length;
    top1Errors += e1;
    top5Errors += e5;
  }
  return { images, top1Errors, top5Errors };
}
