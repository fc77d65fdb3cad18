/**
 * The residual blocks of He et al. (CVPR 2016), Sec. 3.3 and Fig. 5, shared by the ImageNet and
 * CIFAR ResNets and their plain counterparts. Tensors are NHWC; state names follow torchvision
 * (`conv1`, `bn1`, ..., `downsample.0` / `downsample.1`) or, for the CIFAR nets,
 * akamaster/pytorch_resnet_cifar10 (`shortcut.0` / `shortcut.1`).
 *
 * Shortcut options (Sec. 3.3 and 4.1, Table 3):
 * - 'A': identity, and where dimensions increase a parameter-free shortcut that subsamples by the
 *   stride and zero-pads the new channels;
 * - 'B': identity, and a projection (1x1 conv + BN) where dimensions change (torchvision);
 * - 'C': a projection on every block;
 * - 'none': no shortcut at all (the "plain" networks of Fig. 3 and 6).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Layer, Sequential } from '../src/nn/module.ts';
import { BatchNorm2d, Conv2d, ReLU } from '../src/nn/layers.ts';
import type { ConvRunner } from '../src/nn/fuse.ts';
import type { Rng } from '../src/random.ts';
import { countChain, countMacs, type MacCount, type MacCounted, type MapShape } from './flops.ts';

export type ShortcutOption = 'A' | 'B' | 'C';
export const SHORTCUT_OPTIONS: readonly ShortcutOption[] = ['A', 'B', 'C'];

/**
 * Option A's parameter-free shortcut: `x[:, :, ::s, ::s]` (PyTorch NCHW indexing), then zero
 * channels padded on both sides, `floor((out - in) / 2)` before and the rest after. For the
 * doubling of the CIFAR nets this is planes/4 on each side (16 -> 32 is 8 + 8), exactly
 * akamaster's `F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes//4, planes//4))`, so the input
 * channels sit in the middle and the pretrained checkpoints give their reference outputs.
 */
export class ZeroPadShortcut extends Layer implements MacCounted {
  readonly padBefore: number;
  readonly padAfter: number;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly stride: number) {
    super();
    if (outChannels < inChannels) throw new Error(`option A cannot reduce channels (${inChannels} -> ${outChannels})`);
    this.padBefore = Math.floor((outChannels - inChannels) / 2);
    this.padAfter = outChannels - inChannels - this.padBefore;
  }

  /** @param x [N, H, W, in] -> [N, ceil(H/s), ceil(W/s), out] */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let y = x as tf.Tensor4D;
      const s = this.stride;
      if (s > 1) {
        // Strided slicing through pad + reshape + slice: tfjs has no gradient for StridedSlice.
        const [n, h, w, c] = y.shape;
        const hp = Math.ceil(h / s) * s;
        const wp = Math.ceil(w / s) * s;
        if (hp !== h || wp !== w) y = tf.pad(y, [[0, 0], [0, hp - h], [0, wp - w], [0, 0]]);
        const grid = tf.reshape(y, [n, hp / s, s, wp / s, s, c]);
        y = tf.reshape(tf.slice(grid, [0, 0, 0, 0, 0, 0], [n, hp / s, 1, wp / s, 1, c]), [n, hp / s, wp / s, c]);
      }
      if (this.padBefore || this.padAfter) y = tf.pad(y, [[0, 0], [0, 0], [0, 0], [this.padBefore, this.padAfter]]);
      return y === x ? tf.clone(x) : y;
    });
  }

  countMacs(input: MapShape): MacCount {
    return { macs: 0, shape: { h: Math.ceil(input.h / this.stride), w: Math.ceil(input.w / this.stride), c: this.outChannels } };
  }
}

/** How a block builds its shortcut. */
export interface BlockShortcut {
  option: ShortcutOption | 'none';
  /** the child's state name: torchvision 'downsample', akamaster's CIFAR nets 'shortcut' */
  name: 'downsample' | 'shortcut';
}

/** The shortcut layer for a block from `inC` to `outC` channels, or undefined for the identity / none. */
function makeShortcut(sc: BlockShortcut, inC: number, outC: number, stride: number, rng: Rng): Layer | undefined {
  const changes = stride !== 1 || inC !== outC;
  if (sc.option === 'none' || (sc.option !== 'C' && !changes)) return undefined;
  if (sc.option === 'A') return new ZeroPadShortcut(inC, outC, stride);
  // Projection: 1x1 conv with the block's stride + BN (torchvision's `downsample`).
  return new Sequential([new Conv2d(inC, outC, 1, { stride }, rng), new BatchNorm2d(outC)]);
}

/** The ReLU between a branch's BN and its next conv, as a chain element (stateless, not a child). */
const BRANCH_RELU = new ReLU();

/** Residual (or plain) blocks: their forward adds the shortcut before the last ReLU. */
abstract class Block extends Layer implements MacCounted {
  protected shortcut?: Layer;
  protected plain = false;
  /** the residual branch, without the final ReLU */
  protected abstract branch(): Layer[];

  protected init(sc: BlockShortcut, inC: number, outC: number, stride: number, rng: Rng): void {
    this.plain = sc.option === 'none';
    const shortcut = makeShortcut(sc, inC, outC, stride, rng);
    if (shortcut) this.shortcut = this.child(sc.name, shortcut);
  }

  /** @param x [N, H, W, in] -> [N, H/stride, W/stride, out] */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const layers = this.branch();
      let y = x;
      layers.forEach((layer, i) => {
        y = layer.forward(y);
        // ReLU after every BN of the branch except the last, which waits for the addition.
        if (i % 2 === 1 && i < layers.length - 1) y = tf.relu(y);
      });
      if (!this.plain) y = tf.add(y, this.shortcut ? this.shortcut.forward(x) : x);
      return tf.relu(y);
    });
  }

  /**
   * `forward` with the branch as one chain `conv, bn, relu, conv, bn[, relu, conv, bn]`, so
   * `runner` fuses each conv with its BN and the ReLU after it (src/nn/fuse.ts); the residual
   * add and the last ReLU go through `runner.residual` (one fused conv on the native backend).
   */
  override forwardWith(x: tf.Tensor, runner: ConvRunner): tf.Tensor {
    return tf.tidy(() => {
      const layers = this.branch();
      const chain = layers.flatMap((layer, i) => (i % 2 === 1 && i < layers.length - 1 ? [layer, BRANCH_RELU] : [layer]));
      if (this.plain) return runner.relu(runner.chain(chain, x));
      return runner.residual(chain, x, this.shortcut ? this.shortcut.forwardWith(x, runner) : x);
    });
  }

  countMacs(input: MapShape): MacCount {
    const main = countChain(this.branch(), input);
    const sc = this.shortcut ? countMacs(this.shortcut, input).macs : 0;
    return { macs: main.macs + sc, shape: main.shape };
  }
}

/** Two 3x3 convs (Fig. 5 left; ResNet-18/34 and the CIFAR nets). Output channels = planes. */
export class BasicBlock extends Block {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;

  constructor(inC: number, planes: number, stride: number, sc: BlockShortcut, rng: Rng) {
    super();
    this.conv1 = this.child('conv1', new Conv2d(inC, planes, 3, { stride, padding: 1 }, rng));
    this.bn1 = this.child('bn1', new BatchNorm2d(planes));
    this.conv2 = this.child('conv2', new Conv2d(planes, planes, 3, { padding: 1 }, rng));
    this.bn2 = this.child('bn2', new BatchNorm2d(planes));
    this.init(sc, inC, planes, stride, rng);
  }

  protected branch(): Layer[] {
    return [this.conv1, this.bn1, this.conv2, this.bn2];
  }
}

/**
 * 1x1 (reduce) - 3x3 - 1x1 (restore, 4x planes) (Fig. 5 right; ResNet-50/101/152). The stride-2
 * sits on the 3x3 (torchvision's weights) or, with `strideInFirst1x1`, on the first 1x1 (the
 * original MSRA/Caffe models and the Keras weights); parameter counts are the same.
 */
export class Bottleneck extends Block {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;

  constructor(inC: number, planes: number, stride: number, sc: BlockShortcut, rng: Rng, strideInFirst1x1 = false) {
    super();
    const out = planes * Bottleneck.expansion;
    this.conv1 = this.child('conv1', new Conv2d(inC, planes, 1, { stride: strideInFirst1x1 ? stride : 1 }, rng));
    this.bn1 = this.child('bn1', new BatchNorm2d(planes));
    this.conv2 = this.child('conv2', new Conv2d(planes, planes, 3, { stride: strideInFirst1x1 ? 1 : stride, padding: 1 }, rng));
    this.bn2 = this.child('bn2', new BatchNorm2d(planes));
    this.conv3 = this.child('conv3', new Conv2d(planes, out, 1, {}, rng));
    this.bn3 = this.child('bn3', new BatchNorm2d(out));
    this.init(sc, inC, out, stride, rng);
  }

  protected branch(): Layer[] {
    return [this.conv1, this.bn1, this.conv2, this.bn2, this.conv3, this.bn3];
  }
}

export type BlockKind = 'basic' | 'bottleneck';

/** Builds one stage (torchvision's `_make_layer`): `count` blocks, the first with `stride`. */
export function makeStage(kind: BlockKind, inC: number, planes: number, count: number, stride: number, sc: BlockShortcut, rng: Rng, strideInFirst1x1 = false): Sequential {
  const blocks: Layer[] = [];
  const expansion = kind === 'basic' ? BasicBlock.expansion : Bottleneck.expansion;
  for (let i = 0; i < count; i++) {
    const s = i === 0 ? stride : 1;
    const c = i === 0 ? inC : planes * expansion;
    blocks.push(kind === 'basic' ? new BasicBlock(c, planes, s, sc, rng) : new Bottleneck(c, planes, s, sc, rng, strideInFirst1x1));
  }
  return new Sequential(blocks);
}
