import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/index.ts';
import { BatchNorm2d, Conv2d, FoldedConvs, FrozenBnConvs, fuseForInference, type Module, ReLU, Sequential } from '../../../src/nn/index.ts';
import { Rng } from '../../../src/random.ts';
import { cifarResnet } from '../../../backbones/cifar-resnet.ts';
import { resnet } from '../../../backbones/resnet.ts';
import { FasterRCNN } from '../../../detectors/faster-rcnn.ts';

/** Every BatchNorm2d of a module tree. */
function batchNorms(m: Module): BatchNorm2d[] {
  const out: BatchNorm2d[] = m instanceof BatchNorm2d ? [m] : [];
  for (const [, c] of m.namedChildren()) out.push(...batchNorms(c));
  return out;
}

/**
 * Random BN statistics and affine parameters, so that folding has something to fold: gamma in
 * [0.5, 1.5], beta in [-0.2, 0.2], mean in [-0.2, 0.2], var in [0.5, 2] (He-initialised convs
 * keep activations O(1) with these).
 */
function randomiseBatchNorms(m: Module, seed: number): void {
  const rng = new Rng(seed);
  for (const bn of batchNorms(m)) {
    const c = bn.channels;
    const u = (lo: number, hi: number) => tf.tensor1d(Array.from({ length: c }, () => lo + (hi - lo) * rng.next()));
    const values = [u(0.5, 1.5), u(-0.2, 0.2), u(-0.2, 0.2), u(0.5, 2)];
    [bn.weight, bn.bias, bn.runningMean, bn.runningVar].forEach((v, i) => v.assign(values[i]));
    tf.dispose(values);
  }
}

/** A fixed, smooth input [n, s, s, 3]. */
function wave(n: number, s: number): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from({ length: n * s * s * 3 }, (_, i) => Math.sin(i * 0.37)), [n, s, s, 3]);
}

/** max |a - b| / max |b|: the error relative to the largest reference value. */
function relativeError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0]);
}

/** Snapshot of a state dict's values, by name. */
function stateValues(m: Module): Map<string, Float32Array> {
  return new Map([...m.stateDict()].map(([n, v]) => [n, v.dataSync() as Float32Array]));
}

describe('nn/fuse (BN folded into convs at inference)', () => {
  before(async () => {
    await initBackend();
  });

  it('folds conv -> BN -> ReLU into one conv by hand', () => {
    const before = tf.memory().numTensors;
    const conv = new Conv2d(1, 1, 1, {}, new Rng(0));
    const bn = new BatchNorm2d(1, { eps: 1 });
    const net = new Sequential([conv, bn, new ReLU()]).eval();
    const values = [tf.tensor4d([2], [1, 1, 1, 1]), tf.tensor1d([1]), tf.tensor1d([3])];
    [conv.weight, bn.runningMean, bn.runningVar].forEach((v, i) => v.assign(values[i]));
    tf.dispose(values);
    // scale = 1 / sqrt(3 + 1) = 0.5: y = relu(0.5 * (2x - 1)) = relu(x - 0.5); x = [0, 1, 3] -> [0, 0.5, 2.5]
    const fast = fuseForInference(net);
    const x = tf.tensor4d([0, 1, 3], [1, 1, 3, 1]);
    const y = fast.forward(x);
    assert.deepEqual(Array.from(y.dataSync()), [0, 0.5, 2.5]);
    assert.equal(fast.convs.size, 1);
    tf.dispose([x, y]);
    fast.dispose();
    net.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('a conv with its own bias and no BN (VGG) runs with its own variables, which dispose() leaves alone', () => {
    const before = tf.memory().numTensors;
    const conv = new Conv2d(1, 2, 1, { bias: true }, new Rng(0));
    const net = new Sequential([conv, new ReLU()]).eval();
    const values = [tf.tensor4d([1, -1], [1, 1, 1, 2]), tf.tensor1d([0.5, 0.5])];
    conv.weight.assign(values[0]);
    conv.bias!.assign(values[1]);
    tf.dispose(values);
    // y = relu([x + 0.5, -x + 0.5]); x = 2 -> [2.5, 0]
    const fast = fuseForInference(net);
    const x = tf.tensor4d([2], [1, 1, 1, 1]);
    const y = fast.forward(x);
    assert.deepEqual(Array.from(y.dataSync()), [2.5, 0]);
    tf.dispose([x, y]);
    fast.dispose();
    assert.ok(!conv.weight.isDisposed && !conv.bias!.isDisposed);
    net.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  for (const [name, side] of [['resnet18', 64], ['resnet20', 32]] as const) {
    it(`${name}: folded logits equal the modules' within 1e-4 of the largest logit; state dict unchanged; no leak`, () => {
      const net = name === 'resnet18' ? resnet(18, { seed: 3, numClasses: 10 }) : cifarResnet(20, { seed: 3 });
      randomiseBatchNorms(net, 5);
      net.eval();
      const x = wave(2, side);
      const state = stateValues(net);
      const before = tf.memory().numTensors;
      const fast = fuseForInference(net);
      const reference = net.forward(x);
      const folded = fast.forward(x);
      const err = relativeError(folded, reference);
      assert.ok(err < 1e-4, `relative error ${err}`);
      // every conv is folded once (resnet18: 17 + 3 projections = 20; resnet20: 19, option A)
      assert.equal(fast.convs.size, name === 'resnet18' ? 20 : 19);
      // a second call reuses the folds and keeps memory flat
      const mid = tf.memory().numTensors;
      tf.dispose(fast.forward(x));
      assert.equal(tf.memory().numTensors, mid);
      assert.equal(fast.convs.folds, fast.convs.size);
      tf.dispose([reference, folded]);
      fast.dispose();
      assert.equal(tf.memory().numTensors, before);
      const after = stateValues(net);
      assert.deepEqual([...after.keys()], [...state.keys()]);
      for (const [n, v] of state) assert.deepEqual(after.get(n), v, n);
      x.dispose();
      net.dispose();
    });
  }

  it('in training mode it runs the modules\' own path (batch statistics), folding nothing', () => {
    const net = cifarResnet(20, { seed: 4 });
    randomiseBatchNorms(net, 6);
    const x = wave(4, 32);
    const fast = fuseForInference(net);
    const r0 = net.bn1.runningMean.dataSync().slice();
    const reference = net.forward(x); // training mode: batch statistics
    const r1 = net.bn1.runningMean.dataSync().slice();
    const y = fast.forward(x);
    const r2 = net.bn1.runningMean.dataSync();
    assert.equal(fast.convs.size, 0);
    assert.ok(relativeError(y, reference) < 1e-5);
    // The running mean is updated as by forward: with the same batch mean m both times,
    // r1 = 0.9 r0 + 0.1 m and r2 = 0.9 r1 + 0.1 m, so r2 - r1 = 0.9 (r1 - r0).
    r2.forEach((v, i) => assert.ok(Math.abs(v - r1[i] - 0.9 * (r1[i] - r0[i])) < 1e-5, `channel ${i}`));
    assert.ok(r1.some((v, i) => Math.abs(v - r0[i]) > 1e-3));
    tf.dispose([x, reference, y]);
    fast.dispose();
    net.dispose();
  });

  it('refolds after weights change (assign, loadStateDict): never stale', () => {
    const net = cifarResnet(20, { seed: 7 });
    randomiseBatchNorms(net, 8);
    net.eval();
    const x = wave(1, 32);
    const fast = fuseForInference(net);
    tf.dispose(fast.forward(x));
    const folds = fast.convs.folds;
    // an optimizer-style update of one conv weight and a new running variance for another BN
    const conv = net.conv1;
    const scaled = tf.tidy(() => tf.mul(conv.weight, -1.5));
    conv.weight.assign(scaled);
    const variance = tf.fill([64], 3);
    net.loadStateDict(new Map([['layer3.2.bn2.running_var', variance]]), false);
    tf.dispose([scaled, variance]);
    const reference = net.forward(x);
    const y = fast.forward(x);
    assert.equal(fast.convs.folds, folds + 2); // conv1 (+bn1) and layer3.2.conv2 (+bn2) only
    assert.ok(relativeError(y, reference) < 1e-4, `relative error ${relativeError(y, reference)}`);
    tf.dispose([x, reference, y]);
    fast.dispose();
    net.dispose();
  });

  it('detector: the frozen-BN resnet18 trunk and conv5 head fold; detect with them matches the unfolded path; training unaffected', () => {
    const backbone = resnet(18, { seed: 9 });
    randomiseBatchNorms(backbone, 10);
    const model = new FasterRCNN({ backbone }, { numClasses: 2, seed: 1 });
    assert.ok(model.training);
    const x = wave(1, 64);
    const before = tf.memory().numTensors;
    const convs = new FoldedConvs();
    model.eval();
    const trunk = model.trunk;
    const reference = backbone.features(x, [trunk])[trunk];
    const folded = backbone.features(x, [trunk], convs)[trunk];
    assert.ok(relativeError(folded, reference) < 1e-4);
    const pooled = tf.tidy(() => tf.slice(reference, [0, 0, 0, 0], [1, 2, 2, -1]));
    const head = backbone.detection!.head;
    const ref = head.forward(pooled);
    const fol = head.forwardWith(pooled, convs);
    assert.ok(relativeError(fol, ref) < 1e-4);
    assert.equal(convs.size, 15 + 5); // conv1..conv4 (1 + 4 + 5 + 5) and layer4 (4 + projection)
    tf.dispose([reference, folded, pooled, ref, fol]);
    // detect with the fold cache gives the detections of the unfolded path
    const a = model.detect(x, { convs })[0];
    const b = model.detect(x)[0];
    assert.deepEqual(Array.from(a.labels), Array.from(b.labels));
    a.scores.forEach((s, i) => assert.ok(Math.abs(s - b.scores[i]) < 1e-4));
    convs.dispose();
    assert.equal(tf.memory().numTensors, before);
    // detect restored training mode, where features run unfolded (conv weights get gradients)
    model.train();
    const { grads, value } = tf.variableGrads(() => tf.sum(backbone.features(x, [trunk], new FoldedConvs())[trunk]) as tf.Scalar, [backbone.layer3.trainableVariables()[0]]);
    assert.ok(Object.values(grads)[0].shape.length === 4);
    tf.dispose([value, ...Object.values(grads)]);
    x.dispose();
    model.dispose();
  });
});

describe('nn/fuse FrozenBnConvs (training with frozen BN, the detector)', () => {
  before(async () => {
    await initBackend();
  });

  it('same conv4 map and gradients as the unfused path, with less memory kept for the backward pass', () => {
    // A detector's fine-tuning set-up (Appendix A): every BN frozen, conv1 and conv2_x frozen.
    const backbone = resnet(18, { seed: 11 });
    randomiseBatchNorms(backbone, 12);
    const model = new FasterRCNN({ backbone }, { numClasses: 2, seed: 1, freezeBackbone: true });
    const trunk = model.trunk;
    // 128 px: activations outweigh the weight-sized tensors both paths keep (about 10 MB here)
    const x = wave(2, 128);
    const vars = backbone.trainableVariables();
    assert.ok(vars.length > 0 && !vars.includes(backbone.conv1.weight as tf.Variable));
    const before = tf.memory().numTensors;
    // sum of squares: a gradient that depends on the map's values, not only its shape. `held`:
    // bytes still allocated once the forward pass's tidy is over, i.e. what the tape saved for
    // the backward pass.
    let held = 0;
    const loss = (runner?: FrozenBnConvs) => () => {
      const start = tf.memory().numBytes;
      const l = tf.tidy(() => tf.sum(tf.square(backbone.features(x, [trunk], runner)[trunk])) as tf.Scalar);
      held = tf.memory().numBytes - start;
      return l;
    };
    const ref = tf.variableGrads(loss(), vars);
    const refHeld = held;
    const fused = tf.variableGrads(loss(new FrozenBnConvs([x])), vars);
    const fusedHeld = held;
    const [a, b] = [ref.value.dataSync()[0], fused.value.dataSync()[0]];
    assert.ok(Math.abs(a - b) <= 1e-4 * Math.abs(a), `${a} vs ${b}`);
    const names = Object.keys(ref.grads);
    assert.deepEqual(Object.keys(fused.grads).sort(), [...names].sort());
    for (const n of names) assert.ok(relativeError(fused.grads[n], ref.grads[n]) < 1e-3, n);
    // conv1 + layer1 run off the tape, and every conv + BN (+ ReLU) saves one op's tensors
    // instead of three or four: much less is held for the backward pass.
    assert.ok(fusedHeld < 0.5 * refHeld, `held for the backward pass: ${fusedHeld} bytes fused vs ${refHeld} unfused`);
    tf.dispose([ref.value, fused.value, ...Object.values(ref.grads), ...Object.values(fused.grads)]);
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    model.dispose();
  });

  it('a BN in training mode (not frozen) and layers that need a gradient run their own path', () => {
    const conv = new Conv2d(2, 3, 3, { padding: 1 }, new Rng(5));
    const bn = new BatchNorm2d(3);
    const net = new Sequential([conv, bn, new ReLU()]); // training mode, BN not frozen
    const x = tf.tidy(() => tf.slice(wave(2, 6), [0, 0, 0, 0], [2, 6, 6, 2]));
    const before = tf.memory().numTensors;
    const run = (runner?: FrozenBnConvs) => tf.variableGrads(() => tf.sum(tf.square(runner ? net.forwardWith(x, runner) : net.forward(x))) as tf.Scalar);
    const ref = run();
    const got = run(new FrozenBnConvs([x]));
    assert.ok(Math.abs(ref.value.dataSync()[0] - got.value.dataSync()[0]) < 1e-4 * Math.abs(ref.value.dataSync()[0]));
    for (const n of Object.keys(ref.grads)) assert.ok(relativeError(got.grads[n], ref.grads[n]) < 1e-4, n);
    tf.dispose([ref.value, got.value, ...Object.values(ref.grads), ...Object.values(got.grads)]);
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    net.dispose();
  });
});

