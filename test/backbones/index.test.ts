import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { UserError } from '../../src/errors.ts';
import { BACKBONE_NAMES, createBackbone, type BackboneName } from '../../backbones/index.ts';
import { countMacs } from '../../backbones/flops.ts';

/**
 * Per registered name: parameters (torchvision's counts for the ImageNet nets; Table 6's 0.27M,
 * 0.46M, 0.66M, 0.85M, 1.7M, 19.4M for the CIFAR nets, whose plain twins have the same), and
 * multiply-adds of one image (224x224 for ImageNet nets, 32x32 for CIFAR) counting conv + fc.
 * ResNet MACs are with torchvision's stride placement: 1.81, 3.66, 4.09, 7.80, 11.51 G, the
 * figures torchvision documents (Table 1's are checked in resnet.test.ts); VGG-16 15.47 G.
 * `sumSq` is the sum of the squares of all parameters at seed 0, pinned so that the same seed
 * keeps giving the same network from run to run. (Weights, not logits: the smoke forward runs in
 * training mode on tiny maps, where BN over a handful of values makes logits ill-conditioned.)
 * Re-pinned when initialisation moved from tfjs's seeded random ops to Rng.fillNormal /
 * fillUniform (src/nn/layers.ts): same distributions, every sum within 0.11% of the old one.
 * Re-pinned again when the sum moved from the backend's float32 tf.sum to a double sum in the
 * test (the same on every backend; the wasm backend's float32 sum was 0.04% off on ResNet-18).
 */
const EXPECTED: Record<BackboneName, { params: number; macs: number; sumSq: number }> = {
  resnet18: { params: 11689512, macs: 1814073344, sumSq: 12818.243 },
  resnet34: { params: 21797672, macs: 3663761408, sumSq: 23955.605 },
  resnet50: { params: 25557032, macs: 4089184256, sumSq: 71984.644 },
  resnet101: { params: 44549160, macs: 7801405440, sumSq: 150307 },
  resnet152: { params: 60192808, macs: 11513626624, sumSq: 219413.26 },
  plain18: { params: 11515688, macs: 1794805760, sumSq: 11030.938 },
  plain34: { params: 21623848, macs: 3644493824, sumSq: 22165.02 },
  resnet20: { params: 269722, macs: 40551040, sumSq: 1950.7075 },
  resnet32: { params: 464154, macs: 68862592, sumSq: 3295.5706 },
  resnet44: { params: 658586, macs: 97174144, sumSq: 4634.8788 },
  resnet56: { params: 853018, macs: 125485696, sumSq: 5982.217 },
  resnet110: { params: 1727962, macs: 252887680, sumSq: 12031.566 },
  resnet1202: { params: 19421274, macs: 2829238912, sumSq: 134328.88 },
  plain20: { params: 269722, macs: 40551040, sumSq: 1950.7075 },
  plain32: { params: 464154, macs: 68862592, sumSq: 3295.5706 },
  plain44: { params: 658586, macs: 97174144, sumSq: 4634.8788 },
  plain56: { params: 853018, macs: 125485696, sumSq: 5982.217 },
  plain110: { params: 1727962, macs: 252887680, sumSq: 12031.566 },
  vgg16: { params: 138357544, macs: 15470264320, sumSq: 10491.62 },
};

const isCifar = (name: string) => /^(resnet|plain)(20|32|44|56|110|1202)$/.test(name);

describe('backbones/index', () => {
  before(async () => {
    await initBackend();
  });

  it('a bad name is a UserError listing every valid name', () => {
    assert.throws(
      () => createBackbone('resnet51'),
      (e: unknown) => e instanceof UserError && e.message.startsWith('unknown backbone "resnet51"; expected one of: resnet18, resnet34,') && e.message.includes('resnet1202') && e.message.endsWith('vgg16'),
    );
    assert.throws(() => createBackbone('toString'), UserError);
    assert.throws(() => createBackbone('resnet20', { numClasses: 0 }), /backbone resnet20: options.numClasses: expected a positive integer, got 0/);
    assert.throws(() => createBackbone('resnet50', { shortcut: 'D' as 'A' }), /options.shortcut: expected one of A, B, C, got "D"/);
    assert.throws(() => createBackbone('resnet50', { seed: 1.5 }), /options.seed/);
  });

  it('options reach the nets: numClasses defaults to 1000 (ImageNet) and 10 (CIFAR)', () => {
    const cifar = createBackbone('resnet20');
    const cifar100 = createBackbone('plain20', { numClasses: 100, shortcut: 'B' });
    assert.equal(cifar.stateDict().get('linear.bias')?.shape[0], 10);
    assert.equal(cifar100.stateDict().get('linear.bias')?.shape[0], 100);
    assert.equal(cifar100.name, 'plain20');
    cifar.dispose();
    cifar100.dispose();
  });

  it('seeded smoke test over every registered backbone: counts, stages, forward, no leak, same seed same output', () => {
    const got: Record<string, number> = {};
    for (const name of BACKBONE_NAMES) {
      const before = tf.memory().numTensors;
      // Training mode: batch statistics keep the 1202-layer net finite (with eval-mode BN at
      // initialisation, 600 residual additions overflow float32).
      const net = createBackbone(name, { seed: 0 });
      const exp = EXPECTED[name];
      assert.equal(net.numParameters(), exp.params, `${name} params`);
      const size = isCifar(name) ? 32 : 224;
      assert.equal(countMacs(net, { h: size, w: size, c: 3 }).macs, exp.macs, `${name} MACs`);
      // stages: strides double (or stay) in order, and detection cuts at stride 16
      const strides = net.stageNames.map((s) => net.outputShape[s].stride);
      assert.deepEqual(strides, isCifar(name) ? [1, 1, 2, 4] : name === 'vgg16' ? [1, 2, 4, 8, 16] : [4, 4, 8, 16, 32], name);
      if (net.detection) assert.equal(net.outputShape[net.detection.trunk].stride, 16);
      // tiny inputs keep the big nets cheap: 8x8 CIFAR (conv4 2x2), 32x32 ImageNet (conv5 1x1)
      const side = isCifar(name) ? 8 : 32;
      const x = tf.randomNormal([2, side, side, 3], 0, 1, 'float32', 42) as tf.Tensor4D;
      const maps = net.features(x, net.stageNames);
      for (const s of net.stageNames) {
        const { channels, stride } = net.outputShape[s];
        assert.deepEqual(maps[s].shape, [2, side / stride, side / stride, channels], `${name} ${s}`);
      }
      tf.dispose(Object.values(maps));
      const y = net.forward(x);
      assert.deepEqual(y.shape, [2, isCifar(name) ? 10 : 1000]);
      const logits = Array.from(y.dataSync());
      assert.ok(logits.every(Number.isFinite), `${name}: non-finite logits`);
      // summed in double here, not by a backend's float32 Sum (wasm's is off by 0.04% on ResNet-18)
      let sumSq = 0;
      for (const [, v] of net.namedParameters()) for (const x of v.dataSync() as Float32Array) sumSq += x * x;
      got[name] = sumSq;
      tf.dispose([x, y]);
      net.dispose();
      assert.equal(tf.memory().numTensors, before, `${name} leaked tensors`);
    }
    if (process.env.RESDET_PRINT_GOLDEN) console.log(JSON.stringify(got));
    for (const name of BACKBONE_NAMES) {
      const pinned = EXPECTED[name].sumSq;
      assert.ok(Math.abs(got[name] - pinned) <= 1e-5 * pinned, `${name}: sum of squared parameters ${got[name]} vs pinned ${pinned}`);
    }
  });

  it("init 'none' skips the draws (zeros) and, once the weights are loaded, is the same network", () => {
    const before = tf.memory().numTensors;
    const random = createBackbone('resnet20', { seed: 3 }).eval();
    const none = createBackbone('resnet20', { seed: 3, init: 'none' }).eval();
    assert.ok(none.namedParameters().filter(([n]) => n.endsWith('conv1.weight') || n.startsWith('linear.')).every(([, v]) => v.dataSync().every((x) => x === 0)));
    none.loadStateDict(random.stateDict());
    const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 9);
    const [ya, yb] = [random.forward(x), none.forward(x)];
    assert.deepEqual(yb.dataSync(), ya.dataSync());
    tf.dispose([x, ya, yb]);
    random.dispose();
    none.dispose();
    assert.throws(() => createBackbone('resnet20', { init: 'lazy' as 'none' }), /options\.init: expected 'random' or 'none', got "lazy"/);
    assert.equal(tf.memory().numTensors, before);
  });

  it('same seed, same network; another seed, another network (within one run)', () => {
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 7);
    const run = (seed: number) => {
      const net = createBackbone('resnet20', { seed }).eval();
      const y = net.forward(x);
      const v = Array.from(y.dataSync());
      y.dispose();
      net.dispose();
      return v;
    };
    const [a, b, c] = [run(5), run(5), run(6)];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    x.dispose();
  });
});
