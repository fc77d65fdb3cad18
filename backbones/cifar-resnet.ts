/**
 * The CIFAR-10 networks of He et al. (CVPR 2016), Sec. 4.2: 6n+2 layers, a 3x3 conv stem with
 * 16 filters, three stages of n basic blocks on 32x32, 16x16 and 8x8 maps with 16, 32 and 64
 * filters (the first block of stages 2 and 3 has stride 2), global average pooling and a
 * 10-way fc. Residual nets use option A shortcuts (parameter-free, Sec. 4.2), so a ResNet and its
 * plain counterpart have exactly the same parameters (Table 6: 0.27M for ResNet-20 ... 19.4M
 * for ResNet-1202).
 *
 * Module names follow akamaster/pytorch_resnet_cifar10 (conv1, bn1, layer1 ... layer3 with
 * blocks `layerN.i.conv1/bn1/conv2/bn2`, head `linear`), so its checkpoints map after stripping
 * `module.`. Its option-A channel placement (input channels in the middle) and symmetric pad-1
 * convolutions at stride 2 are reproduced exactly (blocks.ts, ZeroPadShortcut).
 *
 * Stages: conv1 (stem, stride 1, 16 channels), conv2 ... conv4 (strides 1, 2, 4; 16, 32, 64).
 * Tensors are NHWC: x [N, 32, 32, 3] -> logits [N, numClasses].
 */
import type { Sequential } from '../src/nn/module.ts';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Linear, ReLU } from '../src/nn/layers.ts';
import { initRng, type WeightInit } from '../src/random.ts';
import { makeStage, type ShortcutOption } from './blocks.ts';
import { StagedBackbone } from './staged.ts';
import type { Backbone } from './types.ts';

/** Sec. 4.2's depths: n blocks per stage gives 6n+2 weighted layers. */
export const CIFAR_DEPTHS = {
  20: 3,
  32: 5,
  44: 7,
  56: 9,
  110: 18,
  1202: 200,
} as const satisfies Record<number, number>;

export type CifarDepth = keyof typeof CIFAR_DEPTHS;

/** Stage widths (number of filters) of Sec. 4.2. */
export const CIFAR_WIDTHS = [16, 32, 64] as const;

export interface CifarResNetOptions {
  /** classifier outputs (10 for CIFAR-10) */
  numClasses: number;
  /** seed of the initialisation */
  seed: number;
  /** 'none': skip the random draws, weights start at zero (they are loaded next); default 'random' */
  init?: WeightInit;
  /** 'A' in the paper (Sec. 4.2); 'B' and 'C' add projections named `shortcut.0` / `shortcut.1` */
  shortcut: ShortcutOption;
  /** remove every shortcut: the plain nets of Fig. 6 (left) */
  plain: boolean;
}

export const CIFAR_DEFAULTS: CifarResNetOptions = {
  numClasses: 10,
  seed: 0,
  shortcut: 'A',
  plain: false,
};

export class CifarResNet extends StagedBackbone implements Backbone {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly linear: Linear;
  readonly options: CifarResNetOptions;

  /**
   * @param name registry name, e.g. 'resnet20'
   * @param n blocks per stage (depth 6n+2)
   * @param overrides options over CIFAR_DEFAULTS
   */
  constructor(name: string, n: number, overrides: Partial<CifarResNetOptions> = {}) {
    super(name);
    const opts = { ...CIFAR_DEFAULTS, ...overrides };
    this.options = opts;
    const rng = initRng(opts.seed, opts.init);
    const sc = { option: opts.plain ? 'none' : opts.shortcut, name: 'shortcut' } as const;
    this.conv1 = this.child('conv1', new Conv2d(3, CIFAR_WIDTHS[0], 3, { padding: 1 }, rng));
    this.bn1 = this.child('bn1', new BatchNorm2d(CIFAR_WIDTHS[0]));
    const relu = this.child('relu', new ReLU());
    let inC: number = CIFAR_WIDTHS[0];
    const layers = CIFAR_WIDTHS.map((planes, i) => {
      const stage = this.child(`layer${i + 1}`, makeStage('basic', inC, planes, n, i === 0 ? 1 : 2, sc, rng));
      inC = planes;
      return stage;
    });
    [this.layer1, this.layer2, this.layer3] = layers;
    const avgpool = this.child('avgpool', new GlobalAvgPool());
    this.linear = this.child('linear', new Linear(inC, opts.numClasses, rng));
    this.setStages(
      [
        { name: 'conv1', layers: [this.conv1, this.bn1, relu] },
        { name: 'conv2', layers: [this.layer1] },
        { name: 'conv3', layers: [this.layer2] },
        { name: 'conv4', layers: [this.layer3] },
      ],
      [avgpool, this.linear],
    );
  }
}

/** Builds the CIFAR ResNet (or, with `plain`, plain net) of `depth` = 6n+2 layers. */
export function cifarResnet(depth: CifarDepth, options: Partial<CifarResNetOptions> = {}): CifarResNet {
  return new CifarResNet(`${options.plain ? 'plain' : 'resnet'}${depth}`, CIFAR_DEPTHS[depth], options);
}
