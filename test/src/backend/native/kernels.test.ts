import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { FUSED_CONV_ADD } from '../../../../src/backend/custom-kernels.ts';
import { cpuVsNative, requireNative, wave } from '../../../helpers/native.ts';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
const TOL = 1e-5;

/** The native backend's fallback counter for one kernel. */
function fallbacks(name: string): number {
  return (tf.findBackend('native') as unknown as { fallbacks: Map<string, number> }).fallbacks.get(name) ?? 0;
}

describe('native backend kernels vs the cpu backend', function () {
  let previous: string;
  before(async function () {
    await requireNative(this);
    previous = tf.getBackend();
  });
  after(async () => {
    if (previous) await tf.setBackend(previous);
  });

  // strides x kernels 1/3/7 x dilations x padding same/valid/number/explicit, batch 2, odd sizes.
  const pads: Pad[] = ['same', 'valid', 2, [[0, 0], [1, 2], [0, 3], [0, 0]]];
  for (const [stride, k, dilation] of [[1, 1, 1], [2, 1, 1], [1, 3, 1], [2, 3, 1], [1, 3, 2], [2, 7, 1], [1, 7, 1]]) {
    it(`Conv2D, its input and filter gradients: stride ${stride}, kernel ${k}, dilation ${dilation}, every padding`, async () => {
      const before = tf.memory().numTensors;
      const convFallbacks = () => fallbacks(tf.Conv2D) + fallbacks(tf.Conv2DBackpropInput) + fallbacks(tf.Conv2DBackpropFilter);
      const fallbacksBefore = convFallbacks();
      const [n, h, w, ci, co] = [2, 13, 11, 3, 5];
      const x = wave(n * h * w * ci, 0.37);
      const filter = wave(k * k * ci * co, 0.11, 1);
      for (const pad of pads) {
        if (dilation > 1 && typeof pad !== 'string') continue; // tfjs: dilations need same/valid padding with stride 1
        const f = () => {
          const xt = tf.tensor4d(x, [n, h, w, ci]);
          const ft = tf.tensor4d(filter, [k, k, ci, co]);
          const conv = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, stride, pad, 'NHWC', dilation);
          const y = conv(xt, ft);
          if (dilation > 1) return [y]; // tfjs has no conv2d gradient with dilations
          const r = tf.tensor(wave(y.size, 0.23, 2), y.shape);
          const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), r)))([xt, ft]);
          return [y, dx, df];
        };
        assert.ok((await cpuVsNative(f)) < TOL, `pad ${JSON.stringify(pad)}`);
      }
      assert.equal(tf.memory().numTensors, before);
      // A strided 1x1 filter gradient with padding (pads 2 and the explicit one) is left to the
      // cpu kernel (src/backend/native/addon/conv.cc, subsample); nothing else falls back.
      assert.equal(convFallbacks() - fallbacksBefore, k === 1 && stride > 1 ? 2 : 0);
    });
  }

  it('FusedConv2D with bias and each activation, and a residual path through the cpu kernel (prelu)', async () => {
    const [n, h, w, ci, co] = [2, 10, 9, 4, 6];
    const x = wave(n * h * w * ci, 0.31);
    const filter = wave(3 * 3 * ci * co, 0.17, 0.5);
    for (const activation of ['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu', 'prelu'] as const) {
      const diff = await cpuVsNative(() => tf.fused.conv2d({
        x: tf.mul(tf.tensor4d(x, [n, h, w, ci]), 4) as tf.Tensor4D,
        filter: tf.tensor4d(filter, [3, 3, ci, co]),
        strides: 2,
        pad: 'same',
        bias: tf.tensor1d(wave(co, 1.3)),
        activation,
        leakyreluAlpha: 0.1,
        preluActivationWeights: activation === 'prelu' ? tf.tensor1d(wave(co, 0.7)) : undefined,
      }));
      assert.ok(diff < TOL, activation);
    }
    assert.equal(fallbacks(tf.FusedConv2D), 1, 'only prelu falls back');
  });

  it('resdet FUSED_CONV_ADD (conv + bias + residual + ReLU in one pass) equals the composite on cpu', async () => {
    const x = wave(2 * 9 * 9 * 8, 0.27);
    const filter = wave(8 * 16, 0.19, 0.4);
    const bias = wave(16, 1.1);
    const residual = wave(2 * 9 * 9 * 16, 0.43, 0.2);
    await tf.setBackend('cpu');
    const want = tf.tidy(() => tf.relu(tf.add(tf.add(tf.conv2d(tf.tensor4d(x, [2, 9, 9, 8]), tf.tensor4d(filter, [1, 1, 8, 16]), 1, 'valid'), tf.tensor1d(bias)), tf.tensor4d(residual, [2, 9, 9, 16]))));
    const wantData = want.dataSync().slice();
    want.dispose();
    await tf.setBackend('native');
    const before = tf.memory().numTensors;
    const got = tf.tidy(() => tf.engine().runKernel(FUSED_CONV_ADD, { x: tf.tensor4d(x, [2, 9, 9, 8]), filter: tf.tensor4d(filter, [1, 1, 8, 16]), bias: tf.tensor1d(bias), add: tf.tensor4d(residual, [2, 9, 9, 16]) },
      { strides: 1, pad: 'valid', dilations: 1, activation: 'relu' } as unknown as tf.NamedAttrMap) as tf.Tensor);
    const gotData = got.dataSync();
    got.dispose();
    assert.equal(tf.memory().numTensors, before);
    let worst = 0;
    for (let i = 0; i < wantData.length; i++) worst = Math.max(worst, Math.abs(gotData[i] - wantData[i]));
    assert.ok(worst < 1e-5, `max diff ${worst}`);
  });

  it('BatchMatMul and _FusedMatMul: transposes, batch broadcast, bias, activation', async () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[5, 7], [7, 3], false, false],
      [[7, 5], [7, 3], true, false],
      [[5, 7], [3, 7], false, true],
      [[7, 5], [3, 7], true, true],
      [[4, 5, 7], [4, 7, 3], false, false],
      [[1, 5, 7], [4, 7, 3], false, false],
      [[2, 3, 5, 7], [7, 6], false, false],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      const a = wave(sa.reduce((p, q) => p * q), 0.3);
      const b = wave(sb.reduce((p, q) => p * q), 0.7, 1);
      assert.ok((await cpuVsNative(() => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb))) < TOL, `${sa} x ${sb}`);
      const n = tb ? sb[sb.length - 2] : sb[sb.length - 1];
      assert.ok((await cpuVsNative(() => tf.fused.matMul({ a: tf.tensor(a, sa), b: tf.tensor(b, sb), transposeA: ta, transposeB: tb, bias: tf.tensor1d(wave(n, 0.9)), activation: 'relu' }))) < TOL);
    }
    // [2, 1] x [1, 3] batch dims broadcast both ways: the cpu kernel takes it, with the same result.
    assert.ok((await cpuVsNative(() => tf.matMul(tf.tensor(wave(2 * 4 * 5, 0.2), [2, 1, 4, 5]), tf.tensor(wave(3 * 5 * 2, 0.4), [1, 3, 5, 2])))) < TOL);
    assert.throws(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 5])), /inner shapes/);
  });

  it('MaxPool, AvgPool and their gradients, with the first-maximum tie rule', async () => {
    const [n, h, w, c] = [2, 11, 10, 19];
    // rounded values: ties inside windows exercise the first-maximum rule
    const x = Float32Array.from(wave(n * h * w * c, 0.61), (v) => Math.round(v * 3));
    for (const [k, s, pad] of [[3, 2, 'same'], [3, 2, 'valid'], [2, 2, 'valid'], [3, 1, 1], [1, 1, 'same']] as Array<[number, number, Pad]>) {
      for (const pool of [tf.maxPool, tf.avgPool]) {
        const f = () => {
          const xt = tf.tensor4d(x, [n, h, w, c]);
          const fwd = (a: tf.Tensor) => pool(a as tf.Tensor4D, k, s, pad as 'same');
          const y = fwd(xt);
          const r = tf.tensor(wave(y.size, 0.29), y.shape);
          return [y, tf.grad((a: tf.Tensor) => tf.sum(tf.mul(fwd(a), r)))(xt)];
        };
        assert.ok((await cpuVsNative(f)) < TOL, `${pool === tf.maxPool ? 'max' : 'avg'} ${k}/${s}/${pad}`);
      }
    }
  });

  it('binary ops with broadcasting, unary ops', async () => {
    const shapes: Array<[number[], number[]]> = [[[2, 3, 4, 5], [2, 3, 4, 5]], [[2, 3, 4, 5], [5]], [[5], [2, 3, 4, 5]], [[2, 3, 4, 5], []], [[2, 1, 4, 1], [3, 1, 5]], [[6, 1], [1, 7]], [[1000, 64], [64]]];
    const ops = [tf.add, tf.sub, tf.mul, tf.div, tf.maximum, tf.minimum, tf.squaredDifference];
    for (const [sa, sb] of shapes) {
      const a = wave(sa.reduce((p, q) => p * q, 1), 0.3);
      const b = Float32Array.from(wave(sb.reduce((p, q) => p * q, 1), 0.7, 1), (v) => v + 2); // no division by ~0
      for (const op of ops) assert.ok((await cpuVsNative(() => op(tf.tensor(a, sa), tf.tensor(b, sb)))) < TOL, `${op.name} ${sa} ${sb}`);
    }
    const x = Float32Array.from(wave(40000, 0.13), (v, i) => (i === 7 ? NaN : v * 3));
    const pos = Float32Array.from(x, (v) => Math.abs(v) + 0.5);
    const unary: Array<(t: tf.Tensor) => tf.Tensor> = [tf.relu, tf.relu6, (t) => tf.step(t, 0.3), tf.neg, tf.exp, tf.square, tf.abs, tf.sigmoid];
    for (const op of unary) assert.ok((await cpuVsNative(() => op(tf.tensor(x)))) < TOL);
    for (const op of [tf.log, tf.sqrt, tf.rsqrt]) assert.ok((await cpuVsNative(() => op(tf.tensor(pos)))) < TOL);
  });

  it('Sum, Mean, Max, Min over contiguous and non-contiguous axes, keepDims', async () => {
    const shape = [3, 4, 5, 6];
    const x = wave(360, 0.77);
    const axesList: Array<number | number[] | undefined> = [undefined, 0, 3, [0, 1, 2], [1, 2], [0, 2], -1];
    for (const axis of axesList) {
      for (const op of [tf.sum, tf.mean, tf.max, tf.min]) {
        for (const keepDims of [false, true]) {
          assert.ok((await cpuVsNative(() => op(tf.tensor(x, shape), axis, keepDims))) < TOL, `${op.name} ${axis} ${keepDims}`);
        }
      }
    }
    // batch norm's statistics: a large reduction over N*H*W (the chunked path)
    const big = wave(8 * 32 * 32 * 16, 0.011);
    assert.ok((await cpuVsNative(() => tf.moments(tf.tensor(big, [8, 32, 32, 16]), [0, 1, 2]).variance)) < TOL);
  });

  it('Slice and PadV2 up to rank 6 (option-A shortcuts), and their gradients', async () => {
    const x = wave(2 * 6 * 6 * 3, 0.21);
    const f = () => {
      const xt = tf.tensor4d(x, [2, 6, 6, 3]);
      const sub = (a: tf.Tensor) => tf.reshape(tf.slice(tf.reshape(a, [2, 3, 2, 3, 2, 3]), [0, 0, 1, 0, 0, 0], [2, 3, 1, 3, 1, 3]), [2, 3, 3, 3]);
      const y = tf.pad(sub(xt), [[0, 0], [1, 0], [0, 2], [2, 2]], 0.5);
      const r = tf.tensor(wave(y.size, 0.37), y.shape);
      return [y, tf.slice(xt, [1, 2, 0, 1], [1, -1, 4, 2]), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.pad(sub(a), [[0, 0], [1, 0], [0, 2], [2, 2]]), r)))(xt)];
    };
    assert.ok((await cpuVsNative(f)) === 0, 'copies are exact');
    assert.equal(fallbacks(tf.Slice) + fallbacks(tf.PadV2), 0);
  });

  it('FusedBatchNorm with per-channel and scalar parameters', async () => {
    const x = wave(2 * 5 * 5 * 7, 0.41);
    const p = (f: number, plus = 0) => tf.tensor1d(Float32Array.from(wave(7, f), (v) => v + plus));
    assert.ok((await cpuVsNative(() => tf.batchNorm(tf.tensor4d(x, [2, 5, 5, 7]), p(0.3), p(0.5, 2), p(0.7), p(0.9), 1e-3))) < TOL);
    assert.ok((await cpuVsNative(() => tf.batchNorm(tf.tensor4d(x, [2, 5, 5, 7]), tf.scalar(0.2), tf.scalar(1.5), undefined, undefined, 1e-5))) < TOL);
  });

  it('conv gradients agree with finite differences', async () => {
    await tf.setBackend('native');
    const x = tf.tensor4d(wave(1 * 6 * 5 * 2, 0.5), [1, 6, 5, 2]);
    const f = tf.tensor4d(wave(3 * 3 * 2 * 3, 0.3, 1), [3, 3, 2, 3]);
    const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')));
    const [dx, df] = tf.grads(loss)([x, f]);
    const eps = 1e-2;
    for (const [t, g, i] of [[x, dx, 7], [x, dx, 33], [f, df, 4], [f, df, 40]] as Array<[tf.Tensor, tf.Tensor, number]>) {
      const v = t.dataSync().slice();
      const at = (d: number) => {
        const w = v.slice();
        w[i] += d;
        const tt = tf.tensor(w, t.shape);
        const l = (t === x ? loss(tt, f) : loss(x, tt)).dataSync()[0];
        tt.dispose();
        return l;
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const analytic = g.dataSync()[i];
      assert.ok(Math.abs(numeric - analytic) < 2e-2 * Math.max(1, Math.abs(analytic)), `${numeric} vs ${analytic}`);
    }
    tf.dispose([x, f, dx, df]);
  });

  it('NaN propagates through a convolution and a matmul, as on cpu', async () => {
    const x = wave(1 * 4 * 4 * 2, 0.5);
    x[5] = NaN;
    assert.ok((await cpuVsNative(() => tf.conv2d(tf.tensor4d(x, [1, 4, 4, 2]), tf.ones([3, 3, 2, 2]), 1, 'same'))) < TOL);
    assert.ok((await cpuVsNative(() => tf.matMul(tf.tensor(x, [4, 8]), tf.ones([8, 3])))) < TOL);
  });
});
