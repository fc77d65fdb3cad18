/**
 * Batch-norm folding for inference: a conv followed by an eval-mode batch norm is one conv with
 * rescaled weights and a bias, so inference runs one (fused) conv instead of conv + 4 elementwise
 * passes over the feature map (the standard deployment rewrite; e.g. TensorRT's and PyTorch's
 * `fuse_conv_bn_eval`). With s = gamma / sqrt(var + eps):
 *
 *   bn(conv(x, W)) = gamma * (conv(x, W) - mean) / sqrt(var + eps) + beta
 *                  = conv(x, W * s) + (beta - mean * s)
 *
 * since s scales each output channel, i.e. the last axis of an HWIO conv weight.
 */
import * as tf from '@tensorflow/tfjs-core';

/** A conv weight and bias equivalent to conv followed by batch norm. */
export interface FoldedConv {
  /** [kh, kw, Cin, Cout] (HWIO, as tf.conv2d), or any shape whose last axis is Cout */
  weight: tf.Tensor;
  /** [Cout] */
  bias: tf.Tensor1D;
}

/**
 * Folds an eval-mode batch norm into the conv before it. Pure: returns new tensors (the caller
 * owns them) and disposes nothing it was given.
 * @param convWeight [kh, kw, Cin, Cout] (or [Cin, Cout] for a dense layer)
 * @param bnGamma [Cout] scale
 * @param bnBeta [Cout] shift
 * @param bnMean [Cout] running mean
 * @param bnVar [Cout] running variance
 * @param eps the batch norm's epsilon (PyTorch 1e-5, Keras 1e-3)
 * @param convBias [Cout] the conv's own bias, when it has one
 */
export function foldBatchNorm(
  convWeight: tf.Tensor,
  bnGamma: tf.Tensor1D,
  bnBeta: tf.Tensor1D,
  bnMean: tf.Tensor1D,
  bnVar: tf.Tensor1D,
  eps: number,
  convBias?: tf.Tensor1D,
): FoldedConv {
  const cout = convWeight.shape[convWeight.rank - 1];
  const named: Array<[string, tf.Tensor]> = [['bnGamma', bnGamma], ['bnBeta', bnBeta], ['bnMean', bnMean], ['bnVar', bnVar]];
  if (convBias) named.push(['convBias', convBias]);
  for (const [name, t] of named) {
    if (t.rank !== 1 || t.shape[0] !== cout) {
      throw new Error(`foldBatchNorm: ${name} must have shape [${cout}] (the conv weight's output channels), got [${t.shape}]`);
    }
  }
  if (!(eps >= 0)) throw new Error(`foldBatchNorm: eps must be a non-negative number, got ${eps}`);
  return tf.tidy(() => {
    const scale = tf.div(bnGamma, tf.sqrt(tf.add(bnVar, eps))); // [Cout]
    const weight = tf.mul(convWeight, scale); // broadcasts over the last (Cout) axis
    const shifted = convBias ? tf.sub(convBias, bnMean) : tf.neg(bnMean);
    const bias = tf.add(tf.mul(shifted, scale), bnBeta) as tf.Tensor1D;
    return { weight, bias };
  });
}
