/**
 * Detection losses on tensors (the only box math that needs gradients). Each takes per-element
 * masks computed in JS by the samplers, so no gather is needed and empty samples are plain zeros.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Elementwise smooth L1 (Fast R-CNN Eq. 3) with torchvision's `beta` = 1 / sigma^2:
 * `0.5 x^2 / beta` for |x| < beta, else `|x| - 0.5 beta`. beta 1/9 = sigma 3 (RPN), 1 = sigma 1 (head).
 */
export function smoothL1(x: tf.Tensor, beta: number): tf.Tensor {
  return tf.tidy(() => {
    const a = tf.abs(x);
    if (beta <= 0) return a;
    // m = min(|x|, beta): 0.5 m^2 / beta + (|x| - m) equals both branches, and every op on the
    // path has a gradient (tf.where's condition op, Less, has none in tfjs).
    const m = tf.minimum(a, beta);
    return tf.add(tf.mul(tf.square(m), 0.5 / beta), tf.sub(a, m));
  });
}

/**
 * Binary cross-entropy with logits, elementwise and numerically stable:
 * `max(x, 0) - x z + log(1 + exp(-|x|))` (torchvision's RPN objectness loss).
 */
export function sigmoidCrossEntropy(logits: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
}

/**
 * RPN losses, normalised as torchvision's `RegionProposalNetwork.compute_loss` (and py-faster-rcnn,
 * whose outside weights are 1 / #sampled): objectness BCE averaged over the sampled anchors of the
 * batch; box smooth L1 summed over the positives and divided by the same count.
 * @param logits [K] objectness logits of every anchor of the batch
 * @param deltas [K, 4] predicted deltas
 * @param labels [K] 1 positive, 0 negative, -1 not sampled
 * @param targets [K, 4] regression targets (read for positives only)
 */
export function rpnLoss(logits: tf.Tensor, deltas: tf.Tensor, labels: Int8Array, targets: Float32Array, beta: number): { cls: tf.Scalar; box: tf.Scalar } {
  const k = labels.length;
  const weight = new Float32Array(k);
  const isPos = new Float32Array(k);
  let sampled = 0;
  for (let i = 0; i < k; i++) {
    if (labels[i] >= 0) {
      weight[i] = 1;
      sampled++;
    }
    if (labels[i] === 1) isPos[i] = 1;
  }
  const norm = Math.max(sampled, 1);
  return tf.tidy(() => {
    const cls = tf.div(tf.sum(tf.mul(sigmoidCrossEntropy(logits, tf.tensor1d(isPos)), tf.tensor1d(weight))), norm) as tf.Scalar;
    const diff = tf.sub(deltas, tf.tensor2d(targets, [k, 4]));
    const box = tf.div(tf.sum(tf.mul(smoothL1(diff, beta), tf.tensor2d(isPos, [k, 1]))), norm) as tf.Scalar;
    return { cls, box };
  });
}

/**
 * Fast R-CNN head losses (Fast R-CNN Eq. 1; torchvision `fastrcnn_loss`, py-faster-rcnn loss_cls
 * and loss_bbox): softmax cross-entropy averaged over the R sampled RoIs; smooth L1 over the
 * foreground RoIs' deltas of their own class, summed and divided by R (py-faster-rcnn's
 * SmoothL1Loss divides by the batch of RoIs, as torchvision's `/ labels.numel()`).
 * @param classLogits [R, K + 1] (column 0 = background)
 * @param boxDeltas [R, 4 (K + 1)] class-specific deltas
 * @param labels [R] class of each RoI, 0 = background
 * @param targets [R, 4] regression targets (read for foreground RoIs only)
 */
export function fastRcnnLoss(classLogits: tf.Tensor, boxDeltas: tf.Tensor, labels: Int32Array, targets: Float32Array, beta: number): { cls: tf.Scalar; box: tf.Scalar } {
  const r = labels.length;
  const k1 = classLogits.shape[1] as number;
  const norm = Math.max(r, 1);
  // one-hot of the foreground class: selects that class's 4 deltas, zero for background
  const fgMask = new Float32Array(r * k1);
  for (let i = 0; i < r; i++) if (labels[i] > 0) fgMask[i * k1 + labels[i]] = 1;
  return tf.tidy(() => {
    const logProb = tf.logSoftmax(classLogits);
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), k1);
    const cls = tf.div(tf.neg(tf.sum(tf.mul(onehot, logProb))), norm) as tf.Scalar;
    const diff = tf.sub(tf.reshape(boxDeltas, [r, k1, 4]), tf.reshape(tf.tensor2d(targets, [r, 4]), [r, 1, 4]));
    const box = tf.div(tf.sum(tf.mul(smoothL1(diff, beta), tf.tensor3d(fgMask, [r, k1, 1]))), norm) as tf.Scalar;
    return { cls, box };
  });
}
