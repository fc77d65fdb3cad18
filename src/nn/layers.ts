/**
 * The layers resdet's networks are built from, with PyTorch's semantics (symmetric explicit
 * padding, BN running statistics with momentum 0.1 and the unbiased batch variance) so that
 * imported torchvision weights give torchvision's outputs. Tensors are NHWC.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Layer } from './module.ts';
import { batchNormTrain } from './batchnorm-train.ts';
import { Rng } from '../random.ts';

export interface Conv2dOptions {
  stride?: number;
  /** symmetric zero padding on every side (PyTorch's `padding`); default 0 */
  padding?: number;
  dilation?: number;
  bias?: boolean;
}

/**
 * He initialisation (He et al. 2015, as torchvision's ResNet: kaiming_normal_, mode='fan_out',
 * nonlinearity='relu'): N(0, 2 / (k*k*outChannels)). Drawn by `rng.derive()`, a generator
 * seeded with one draw of `rng` (so each tensor consumes one draw, whatever its size), into a
 * Float32Array in one pass, several times faster than tfjs's seeded randomNormal.
 */
export function heNormal(shape: number[], fanOut: number, rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.derive().fillNormal(new Float32Array(size), 0, Math.sqrt(2 / fanOut)), shape, 'float32');
}

/**
 * U(lo, hi) of `shape`, drawn like `heNormal` (one `rng.seed()` per tensor, one pass): PyTorch's
 * nn.Linear initialisation for VGG-16's fc6 (25088 x 4096) takes a fraction of tfjs's time.
 */
export function uniform(shape: number[], lo: number, hi: number, rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.derive().fillUniform(new Float32Array(size), lo, hi), shape, 'float32');
}

/** 2-D convolution; weight `[kh, kw, in, out]` (torch OIHW at import), optional bias `[out]`. */
export class Conv2d extends Layer {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, opts: Conv2dOptions, rng: Rng) {
    super();
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    const k = kernelSize;
    this.weight = this.param('weight', heNormal([k, k, inChannels, outChannels], k * k * outChannels, rng), 'conv');
    if (opts.bias) this.bias = this.param('bias', tf.zeros([outChannels]));
  }

  /** @param x [N, H, W, in] -> [N, H', W', out] */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = tf.conv2d(x as tf.Tensor4D, this.weight as tf.Tensor4D, this.stride, this.padding === 0 ? 'valid' : this.padding, 'NHWC', this.dilation);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }
}

export interface BatchNormOptions {
  eps?: number;
  /** PyTorch convention: running = (1 - momentum) * running + momentum * batch */
  momentum?: number;
}

/**
 * Batch normalisation over N, H, W (He et al. Sec. 3.4: after each convolution, before the
 * activation). In training mode it normalises with the batch statistics and updates the running
 * ones; in eval mode, and when frozen, it is the constant affine map of the running statistics
 * (the paper's detection fine-tuning, Appendix A, freezes BN this way).
 */
export class BatchNorm2d extends Layer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly eps: number;
  readonly momentum: number;
  /** when true, statistics are never updated and the layer is a constant affine map */
  frozen = false;

  constructor(readonly channels: number, opts: BatchNormOptions = {}) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    this.weight = this.param('weight', tf.ones([channels]));
    this.bias = this.param('bias', tf.zeros([channels]));
    this.runningMean = this.buffer('running_mean', tf.zeros([channels]));
    this.runningVar = this.buffer('running_var', tf.ones([channels]));
  }

  /** Freezes statistics and affine parameters: a constant per-channel scale and shift. */
  freezeStats(): this {
    this.frozen = true;
    this.freeze();
    return this;
  }

  /** The per-channel scale and shift of the eval-mode map y = x * scale + shift. */
  affine(): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
    return tf.tidy(() => {
      const scale = tf.mul(this.weight, tf.rsqrt(tf.add(this.runningVar, this.eps))) as tf.Tensor1D;
      const shift = tf.sub(this.bias, tf.mul(this.runningMean, scale)) as tf.Tensor1D;
      return { scale, shift };
    });
  }

  /** @param x [N, H, W, C] (or [N, C]) */
  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.frozen) {
      return tf.tidy(() => {
        const { scale, shift } = this.affine();
        return tf.add(tf.mul(x, scale), shift);
      });
    }
    const count = x.size / this.channels;
    // Closed-form backward (batchnorm-train.ts); running statistics use the unbiased variance,
    // as PyTorch does.
    return batchNormTrain(x, this.weight, this.bias, this.eps, (mean, variance) => tf.tidy(() => {
      const m = this.momentum;
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      const unbiased = tf.mul(variance, count / Math.max(count - 1, 1));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
    }));
  }
}

/** Fully connected layer; weight `[in, out]` (torch `[out, in]` at import), bias `[out]`. */
export class Linear extends Layer {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;

  /** Initialised as PyTorch's nn.Linear: U(-1/sqrt(in), 1/sqrt(in)). */
  constructor(readonly inFeatures: number, readonly outFeatures: number, rng: Rng, bias = true) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', uniform([inFeatures, outFeatures], -bound, bound, rng), 'linear');
    if (bias) this.bias = this.param('bias', uniform([outFeatures], -bound, bound, rng));
  }

  /** @param x [N, in] -> [N, out] */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const y = tf.matMul(x as tf.Tensor2D, this.weight as tf.Tensor2D);
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }
}

export class ReLU extends Layer {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }
}

/** Max pooling with PyTorch's symmetric padding (padded cells never win). */
export class MaxPool2d extends Layer {
  constructor(readonly kernelSize: number, readonly stride: number, readonly padding = 0) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.maxPool(x as tf.Tensor4D, this.kernelSize, this.stride, this.padding === 0 ? 'valid' : this.padding);
  }
}

/** Global average pooling: [N, H, W, C] -> [N, C]. */
export class GlobalAvgPool extends Layer {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.mean(x, [1, 2]);
  }
}

/** [N, H, W, C] -> [N, H*W*C] in PyTorch's NCHW flatten order, so imported fc weights line up. */
export class FlattenNCHW extends Layer {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [x.shape[0], -1]));
  }
}

/**
 * Dropout (torch.nn.Dropout): in training, zeroes each element with probability `rate` and scales
 * the rest by 1 / (1 - rate); the identity in eval mode. Masks are drawn from `rng`, so a seeded
 * run is reproducible.
 */
export class Dropout extends Layer {
  constructor(readonly rate: number, private readonly rng: Rng) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.rate === 0) return tf.clone(x);
    return tf.dropout(x, this.rate, undefined, this.rng.seed());
  }
}

/**
 * Averaging matrix [out, size] of PyTorch's adaptive average pooling along one axis: output cell
 * i averages input cells floor(i*size/out) ... ceil((i+1)*size/out) - 1.
 */
function adaptiveMatrix(size: number, out: number): tf.Tensor2D {
  const m = new Float32Array(out * size);
  for (let i = 0; i < out; i++) {
    const start = Math.floor((i * size) / out);
    const end = Math.ceil(((i + 1) * size) / out);
    for (let j = start; j < end; j++) m[i * size + j] = 1 / (end - start);
  }
  return tf.tensor2d(m, [out, size]);
}

/**
 * torch.nn.AdaptiveAvgPool2d(outputSize) (VGG's pool before fc6): [N, H, W, C] -> [N, out, out, C].
 * The identity when H = W = out (VGG-16 at 224x224); smaller maps are spread over the output
 * (a 2x2 map becomes 7x7 with replicated cells), as torchvision does.
 */
export class AdaptiveAvgPool2d extends Layer {
  constructor(readonly outputSize: number) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    const [n, h, w, c] = x.shape;
    const o = this.outputSize;
    if (h === o && w === o) return tf.clone(x);
    return tf.tidy(() => {
      // Pool rows: [H, N*W*C] -> [o, N*W*C]; then columns the same way.
      const rows = tf.matMul(adaptiveMatrix(h, o), tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, n * w * c]));
      const byCol = tf.reshape(tf.transpose(tf.reshape(rows, [o, n, w, c]), [2, 1, 0, 3]), [w, n * o * c]);
      const cols = tf.matMul(adaptiveMatrix(w, o), byCol); // [o(w), N*o(h)*C]
      return tf.transpose(tf.reshape(cols, [o, n, o, c]), [1, 2, 0, 3]);
    });
  }
}
