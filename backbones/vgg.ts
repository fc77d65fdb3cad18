/**
 * VGG-16 (Simonyan & Zisserman, configuration D), the paper's detection baseline (Table 7), with
 * torchvision's module names: `features.N` (conv weights at 0, 2, 5, 7, 10, 12, 14, 17, 19, 21,
 * 24, 26, 28), `classifier.0` = fc6, `classifier.3` = fc7, `classifier.6` = fc8. Before fc6,
 * AdaptiveAvgPool2d(7) (the identity at 224x224) and an NCHW-order flatten, so torchvision's fc
 * weights line up with resdet's NHWC maps.
 *
 * Stages conv1 ... conv5: each block's last conv + ReLU, before its max pool (strides 1, 2, 4,
 * 8, 16); conv5 is conv5_3, the map Faster R-CNN shares (stride 16, 512 channels).
 */
import { NamedSequential, Sequential, type Layer } from '../src/nn/module.ts';
import { AdaptiveAvgPool2d, Conv2d, Dropout, FlattenNCHW, Linear, MaxPool2d, ReLU } from '../src/nn/layers.ts';
import { initRng, type WeightInit } from '../src/random.ts';
import { StagedBackbone, type Stage } from './staged.ts';
import type { Backbone } from './types.ts';

/** Layer configurations as data (torchvision `cfgs`): a number is a 3x3 conv's width, 'M' a 2x2/2 max pool. */
export const VGG_CFGS = {
  16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
} as const satisfies Record<number, ReadonlyArray<number | 'M'>>;

export type VggDepth = keyof typeof VGG_CFGS;

export interface VggOptions {
  /** classifier outputs (1000 for ImageNet) */
  numClasses: number;
  /** seed of the initialisation and of the dropout masks */
  seed: number;
  /** 'none': skip the random draws, weights start at zero (they are loaded next); default 'random' */
  init?: WeightInit;
}

export const VGG_DEFAULTS: VggOptions = { numClasses: 1000, seed: 0 };

export class Vgg extends StagedBackbone implements Backbone {
  /** torchvision `features` (state names features.N); `features()` is the Backbone method */
  readonly featureLayers: Sequential;
  readonly classifier: Sequential;
  readonly options: VggOptions;
  readonly detection: NonNullable<Backbone['detection']>;

  constructor(name: string, cfg: ReadonlyArray<number | 'M'>, overrides: Partial<VggOptions> = {}) {
    super(name);
    const opts = { ...VGG_DEFAULTS, ...overrides };
    this.options = opts;
    const rng = initRng(opts.seed, opts.init);
    const layers: Layer[] = [];
    const stages: Stage[] = [];
    let stageStart = 0;
    let inC = 3;
    for (const v of cfg) {
      if (v === 'M') {
        // A stage ends before its pool (conv5 = conv5_3 + ReLU); the pool opens the next stage.
        stages.push({ name: `conv${stages.length + 1}`, layers: layers.slice(stageStart) });
        stageStart = layers.length;
        layers.push(new MaxPool2d(2, 2));
      } else {
        layers.push(new Conv2d(inC, v, 3, { padding: 1, bias: true }, rng), new ReLU());
        inC = v;
      }
    }
    this.featureLayers = this.child('features', new Sequential(layers));
    const avgpool = this.child('avgpool', new AdaptiveAvgPool2d(7));
    const fc6 = new Linear(inC * 7 * 7, 4096, rng);
    const fc7 = new Linear(4096, 4096, rng);
    const drop6 = new Dropout(0.5, rng);
    const drop7 = new Dropout(0.5, rng);
    this.classifier = this.child('classifier', new Sequential([fc6, new ReLU(), drop6, fc7, new ReLU(), drop7, new Linear(4096, opts.numClasses, rng)]));
    const flatten = new FlattenNCHW();
    const pool5 = layers.slice(stageStart);
    this.setStages(stages, [...pool5, avgpool, flatten, this.classifier]);

    // py-faster-rcnn's VGG-16: RoI pooling (7x7) on conv5_3 replaces pool5, then fc6 and fc7 (with
    // dropout in training) - the classifier's own layers, so ImageNet weights are shared; conv1_x
    // and conv2_x (features.0, .2, .5, .7) stay frozen when fine-tuning.
    this.detection = {
      trunk: 'conv5',
      pooledSize: 7,
      // fc6 (and its ImageNet weights) is a 25088 = 7x7x512 -> 4096 matrix: no other grid fits
      fixedPooledSize: true,
      head: new NamedSequential([
        ['flatten', flatten],
        ['fc6', fc6],
        ['relu6', new ReLU()],
        ['drop6', drop6],
        ['fc7', fc7],
        ['relu7', new ReLU()],
        ['drop7', drop7],
      ]),
      headChannels: 4096,
      frozenPrefixes: ['features.0', 'features.2', 'features.5', 'features.7'],
      unused: ['classifier.6'],
    };
  }
}

/** Builds VGG-`depth` (configuration D for 16) with torchvision naming. */
export function vgg(depth: VggDepth, options: Partial<VggOptions> = {}): Vgg {
  return new Vgg(`vgg${depth}`, VGG_CFGS[depth], options);
}
