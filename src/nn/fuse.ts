/**
 * Inference with batch norm folded into the convolutions (issue 3, "Speed: inference").
 *
 * In eval mode every `Conv2d -> BatchNorm2d` pair of a ResNet is one affine map of the conv's
 * output, so it folds into a single convolution with rescaled weights and a bias
 * (`foldBatchNorm`, fold-bn.ts; PyTorch's `fuse_conv_bn_eval`); a ReLU that follows directly is
 * fused into the same kernel (`tf.fused.conv2d` with `activation: 'relu'`, the wasm and cpu
 * backends' FusedConv2D). Per pair this saves the BN's four elementwise passes over the feature
 * map (its scale/shift, then Multiply and Add) and the separate Relu pass. The residual
 * add + ReLU stays as it is: tfjs cannot fuse an add of a second map into a conv.
 *
 * Design: an explicit object, `const fast = fuseForInference(model)`, not a cache hidden in the
 * modules, because
 * - the model, its state dict (PyTorch names) and its training path stay exactly as they were:
 *   the folded weights live only in this object, and `fast.dispose()` frees them (no hidden
 *   tensors that a caller's `tf.memory()` leak check would count);
 * - folded weights are kept between calls (refolding per call would also re-pack XNNPACK's
 *   weights on every call), yet never stale: each folded conv records the `dataId` of every
 *   tensor it was computed from (conv weight/bias, BN gamma/beta/mean/var). `Variable.assign`
 *   (optimizer steps, `loadStateDict`) gives a variable a new dataId, so a changed weight is
 *   seen at the next call and that conv is refolded;
 * - a BN in training mode (batch statistics) cannot be folded: such pairs, and every conv in a
 *   module in training mode, run unfused through the modules' own `forward`. So
 *   `fast.forward(x)` equals `model.forward(x)` in either mode (up to float rounding), and
 *   training (e.g. the detector's, with frozen BN) never sees folded weights.
 *
 * Shapes: x [N, H, W, C] NHWC as everywhere in resdet.
 */
import * as tf from '@tensorflow/tfjs-core';
import { FUSED_CONV_ADD, hasKernel } from '../backend/custom-kernels.ts';
import { foldBatchNorm } from './fold-bn.ts';
import { BatchNorm2d, Conv2d, ReLU } from './layers.ts';
import type { Layer } from './module.ts';

/** How `Layer.forwardWith` runs convolutions; FoldedConvs is the implementation. */
export interface ConvRunner {
  /**
   * conv, then the batch norm (when given), then ReLU (when `relu`).
   * @param x [N, H, W, conv.inChannels] -> [N, H', W', conv.outChannels]
   */
  conv(x: tf.Tensor, conv: Conv2d, bn: BatchNorm2d | undefined, relu: boolean): tf.Tensor;
  /** Runs `layers` in order, each `Conv2d [BatchNorm2d] [ReLU]` run through `conv`. */
  chain(layers: readonly Layer[], x: tf.Tensor): tf.Tensor;
  /** The ReLU after a residual block's add. */
  relu(x: tf.Tensor): tf.Tensor;
  /** relu(chain(layers, x) + shortcut): a residual block's branch, its add and its last ReLU. */
  residual(layers: readonly Layer[], x: tf.Tensor, shortcut: tf.Tensor): tf.Tensor;
}

/** One folded conv and the source tensors' dataIds it was computed from. */
interface Folded {
  weight: tf.Tensor4D;
  bias?: tf.Tensor1D;
  /** true when weight / bias are new tensors this cache owns (not the conv's own variables) */
  owned: boolean;
  sources: object[];
}

/** The tensors a conv (+ BN) folds from, in a fixed order. */
function sourcesOf(conv: Conv2d, bn?: BatchNorm2d): tf.Tensor[] {
  const t: tf.Tensor[] = [conv.weight];
  if (conv.bias) t.push(conv.bias);
  if (bn) t.push(bn.weight, bn.bias, bn.runningMean, bn.runningVar);
  return t;
}

/**
 * Runs `Conv2d [BatchNorm2d] [ReLU]` runs of a layer list through `conv`, and every other layer
 * through its own `forwardWith` (so residual blocks recurse with the same runner).
 */
abstract class ConvChain implements ConvRunner {
  abstract conv(x: tf.Tensor, conv: Conv2d, bn: BatchNorm2d | undefined, relu: boolean): tf.Tensor;

  relu(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }

  residual(layers: readonly Layer[], x: tf.Tensor, shortcut: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.relu(tf.add(this.chain(layers, x), shortcut)));
  }

  /** The modules' own path: conv, then the BN's forward (batch or running statistics), then ReLU. */
  protected ownPath(x: tf.Tensor, conv: Conv2d, bn: BatchNorm2d | undefined, relu: boolean): tf.Tensor {
    return tf.tidy(() => {
      let y = conv.forward(x);
      if (bn) y = bn.forward(y);
      return relu ? tf.relu(y) : y;
    });
  }

  chain(layers: readonly Layer[], x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      for (let i = 0; i < layers.length; i++) {
        const layer = layers[i];
        if (!(layer instanceof Conv2d)) {
          h = layer.forwardWith(h, this);
          continue;
        }
        const bn = layers[i + 1] instanceof BatchNorm2d ? (layers[++i] as BatchNorm2d) : undefined;
        const relu = layers[i + 1] instanceof ReLU;
        if (relu) i++;
        h = this.conv(h, layer, bn, relu);
      }
      return h === x ? tf.clone(x) : h;
    });
  }
}

/**
 * A cache of folded convolutions (one entry per Conv2d) and the ConvRunner that uses them.
 * Owns the folded tensors; `dispose()` frees them.
 */
export class FoldedConvs extends ConvChain {
  private readonly cache = new Map<Conv2d, Folded>();
  /** folds computed so far (first folds and refolds after a weight change), for tests and logs */
  folds = 0;

  conv(x: tf.Tensor, conv: Conv2d, bn: BatchNorm2d | undefined, relu: boolean): tf.Tensor {
    if (conv.training || (bn && bn.training)) {
      // Training mode: the modules' own path (batch statistics, running-stat updates, gradients).
      return this.ownPath(x, conv, bn, relu);
    }
    const f = this.folded(conv, bn);
    return tf.fused.conv2d({
      x: x as tf.Tensor4D,
      filter: f.weight,
      strides: conv.stride,
      pad: conv.padding === 0 ? 'valid' : conv.padding,
      dilations: conv.dilation,
      bias: f.bias,
      activation: relu ? 'relu' : 'linear',
    });
  }

  /**
   * On a backend with the FUSED_CONV_ADD kernel (native), the branch's last conv (BN folded)
   * takes the shortcut as a residual input, with the ReLU, in one pass (oneDNN's sum post-op),
   * instead of a conv, an Add and a Relu over the block's output.
   */
  override residual(layers: readonly Layer[], x: tf.Tensor, shortcut: tf.Tensor): tf.Tensor {
    const n = layers.length;
    const last = layers[n - 1] instanceof BatchNorm2d ? n - 2 : n - 1;
    const conv = layers[last];
    const bn = last === n - 2 ? (layers[n - 1] as BatchNorm2d) : undefined;
    if (!hasKernel(FUSED_CONV_ADD) || !(conv instanceof Conv2d) || conv.training || (bn && bn.training)) return super.residual(layers, x, shortcut);
    return tf.tidy(() => {
      const h = this.chain(layers.slice(0, last), x);
      const f = this.folded(conv, bn);
      const attrs = { strides: conv.stride, pad: conv.padding === 0 ? 'valid' : conv.padding, dilations: conv.dilation, activation: 'relu' };
      return tf.engine().runKernel(FUSED_CONV_ADD, { x: h, filter: f.weight, add: shortcut, ...(f.bias ? { bias: f.bias } : {}) }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    });
  }

  /** The cached fold of `conv` (+ `bn`), refolded when any source tensor was reassigned. */
  private folded(conv: Conv2d, bn?: BatchNorm2d): Folded {
    const sources = sourcesOf(conv, bn);
    const hit = this.cache.get(conv);
    if (hit && hit.sources.length === sources.length && hit.sources.every((id, i) => id === sources[i].dataId)) return hit;
    if (hit) this.release(hit);
    let entry: Folded;
    if (bn) {
      const { weight, bias } = foldBatchNorm(conv.weight, bn.weight as tf.Tensor1D, bn.bias as tf.Tensor1D,
        bn.runningMean as tf.Tensor1D, bn.runningVar as tf.Tensor1D, bn.eps, conv.bias as tf.Tensor1D | undefined);
      // Kept out of the caller's tf.tidy: the cache owns them until a refold or dispose().
      entry = { weight: tf.keep(weight) as tf.Tensor4D, bias: tf.keep(bias), owned: true, sources: sources.map((t) => t.dataId) };
    } else {
      // A conv without BN (VGG): its own variables, nothing to copy.
      entry = { weight: conv.weight as tf.Tensor4D, bias: conv.bias as tf.Tensor1D | undefined, owned: false, sources: sources.map((t) => t.dataId) };
    }
    this.folds++;
    this.cache.set(conv, entry);
    return entry;
  }

  private release(f: Folded): void {
    if (f.owned) tf.dispose([f.weight, ...(f.bias ? [f.bias] : [])]);
  }

  /** Number of convs currently folded. */
  get size(): number {
    return this.cache.size;
  }

  /** Frees every folded tensor (the model's own variables are untouched). */
  dispose(): void {
    for (const f of this.cache.values()) this.release(f);
    this.cache.clear();
  }
}

/**
 * y = max(z * scale + shift, 0) (or without the max), differentiable in z only (scale and shift
 * are constants: a frozen BN). Saves only y for the backward pass: dz = dy * scale, masked by
 * y > 0 with the ReLU (Relu's own gradient saves its input instead, a second map).
 * @param z [..., C] @param scale [C] (null: 1) @param shift [C] (null: 0)
 */
export function frozenAffine(z: tf.Tensor, scale: tf.Tensor1D | null, shift: tf.Tensor1D | null, relu: boolean): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const y = tf.tidy(() => {
      const a = scale && shift ? tf.add(tf.mul(input, scale), shift) : input;
      return relu ? tf.relu(a) : tf.clone(a);
    });
    if (relu) save([y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.tidy(() => {
        const g = scale ? tf.mul(dy, scale) : dy;
        return relu ? tf.mul(g, tf.step(saved[0])) : tf.clone(g);
      }),
    };
  });
  return op(z);
}

/**
 * Training with frozen batch norm (the detector's fine-tuning, Appendix A). The gain is memory:
 * tfjs keeps every tensor a recorded op saved for its gradient until the whole backward pass
 * ends. Unfused, `conv -> frozen BN -> ReLU` keeps the conv output (saved by the BN's Multiply)
 * and the pre-ReLU map (saved by Relu) besides the conv's input; with 128 RoIs through a
 * ResNet-50's conv5 each such map is 51 MB, and at 600x1000 the trunk's are as large.
 *
 * - A frozen BN is a constant affine map, so `frozen BN [-> ReLU]` runs as one custom op
 *   (`frozenAffine`) that saves only its output: its gradient is dy * s (times the ReLU's mask,
 *   read from the output). The conv output is not kept. (Folding the BN into the conv weight
 *   instead would save a folded copy of every weight, more than it saves on small inputs.)
 * - Stages that need no gradient at all (every layer frozen, e.g. conv1 and conv2_x, fed by the
 *   image or by another such stage) run inside a `tf.customGrad` op: ops nested in a custom op
 *   are not recorded on the tape, so none of their activations are kept. The runner tracks which
 *   tensors are constant: those given to the constructor (the input images) and the outputs of
 *   such stages.
 * - A BN that is not frozen (batch statistics), and a conv without BN, run the modules' own path.
 *
 * Losses and gradients equal the unfused path's up to float rounding.
 */
export class FrozenBnConvs extends ConvChain {
  private readonly constants: WeakSet<tf.Tensor>;

  /** @param constants tensors that depend on no trainable variable (the images) */
  constructor(constants: readonly tf.Tensor[] = []) {
    super();
    this.constants = new WeakSet(constants);
  }

  conv(x: tf.Tensor, conv: Conv2d, bn: BatchNorm2d | undefined, relu: boolean): tf.Tensor {
    if (!bn || (bn.training && !bn.frozen)) {
      return this.ownPath(x, conv, bn, relu);
    }
    return tf.tidy(() => {
      const { scale, shift } = bn.affine();
      return frozenAffine(conv.forward(x), scale, shift, relu);
    });
  }

  /** ReLU saving its output, not its input (the output is kept anyway, as the next conv's input). */
  override relu(x: tf.Tensor): tf.Tensor {
    return frozenAffine(x, null, null, true);
  }

  override chain(layers: readonly Layer[], x: tf.Tensor): tf.Tensor {
    if (!this.constants.has(x) || layers.some((l) => l.trainableVariables().length > 0)) return super.chain(layers, x);
    // No gradient can flow into or through these layers: run them off the tape. The custom op's
    // gradient is never asked for (its input is a constant), and would be zero.
    const offTape = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const input = args[0] as tf.Tensor;
      return { value: super.chain(layers, input), gradFunc: () => tf.zerosLike(input) };
    });
    const y = offTape(x);
    this.constants.add(y);
    return y;
  }
}

/** A model's inference path with folded batch norm; see the file comment. */
export interface FusedInference<L extends Layer = Layer> {
  readonly model: L;
  /** the fold cache (pass it to `forwardWith` / `features` of the model's parts) */
  readonly convs: FoldedConvs;
  /** equals `model.forward(x)` up to float rounding; x [N, H, W, C] */
  forward(x: tf.Tensor): tf.Tensor;
  /** frees the folded weights */
  dispose(): void;
}

/**
 * Wraps `model` for fast inference: `forward` runs every eval-mode `Conv2d -> BatchNorm2d
 * [-> ReLU]` as one fused conv with folded weights. Call `model.eval()` first (a model in
 * training mode runs unfused, as `model.forward`). Dispose the result when done; the model is
 * not modified and stays usable (and trainable) on its own.
 */
export function fuseForInference<L extends Layer>(model: L): FusedInference<L> {
  const convs = new FoldedConvs();
  return {
    model,
    convs,
    forward: (x) => model.forwardWith(x, convs),
    dispose: () => convs.dispose(),
  };
}
