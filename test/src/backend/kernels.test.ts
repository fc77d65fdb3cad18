import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { ensureGradients } from '../../../src/backend/gradients.ts';
import { registerWasmKernels, WASM_KERNELS } from '../../../src/backend/kernels/index.ts';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

/** Deterministic, non-symmetric test values (no RNG state shared with other tests). */
function wave(n: number, f: number, phase = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * f + phase));
}

/** Runs `f` on cpu then on wasm; returns the max abs difference of the results. */
async function cpuVsWasm(f: () => tf.Tensor): Promise<number> {
  await tf.setBackend('cpu');
  const ref = tf.tidy(f);
  const refData = ref.dataSync().slice();
  const refShape = ref.shape;
  ref.dispose();
  await tf.setBackend('wasm');
  const got = tf.tidy(f);
  assert.deepEqual(got.shape, refShape);
  const data = got.dataSync();
  got.dispose();
  let worst = 0;
  for (let i = 0; i < data.length; i++) worst = Math.max(worst, Math.abs(data[i] - refData[i]));
  return worst;
}

describe('resdet wasm kernels vs the cpu backend', function () {
  let previous: string;
  before(async () => {
    await tf.ready(); // another test file may have registered wasm without initialising it
    previous = tf.getBackend();
    await ensureGradients();
    await tf.setBackend('wasm');
    registerWasmKernels();
    registerWasmKernels(); // idempotent, no throw
  });
  after(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it('registers every kernel for wasm', () => {
    for (const k of WASM_KERNELS) assert.equal(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc, k.kernelFunc);
  });

  // strides 1/2 x kernels 1/3/7 x padding same/valid/number/explicit array, batch 2, odd channel
  // counts (3 -> 5, not multiples of 4) and an input whose sides differ and do not divide the stride.
  const pads: Pad[] = ['same', 'valid', 2, [[0, 0], [1, 2], [0, 3], [0, 0]]];
  for (const stride of [1, 2]) {
    for (const k of [1, 3, 7]) {
      it(`Conv2DBackpropFilter and Conv2DBackpropInput: stride ${stride}, kernel ${k}, every padding`, async () => {
        const before = tf.memory().numTensors;
        const [n, h, w, ci, co] = [2, 9, 12, 3, 5];
        const x = wave(n * h * w * ci, 0.37);
        const filter = wave(k * k * ci * co, 0.11, 1);
        for (const pad of pads) {
          const yShape = tf.tidy(() => tf.conv2d(tf.tensor4d(x, [n, h, w, ci]), tf.tensor4d(filter, [k, k, ci, co]), stride, pad as 'same').shape);
          const dy = wave(tf.util.sizeFromShape(yShape), 0.71, 2);
          const dFilter = await cpuVsWasm(() => {
            const loss = (wt: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(tf.tensor4d(x, [n, h, w, ci]), wt as tf.Tensor4D, stride, pad as 'same'), tf.tensor(dy, yShape)));
            return tf.grad(loss)(tf.tensor4d(filter, [k, k, ci, co]));
          });
          const dInput = await cpuVsWasm(() =>
            tf.conv2dTranspose(tf.tensor4d(dy, yShape as Shape4), tf.tensor4d(filter, [k, k, ci, co]), [n, h, w, ci], stride, pad as 'same'));
          assert.ok(dFilter <= 1e-4, `filter grad pad ${JSON.stringify(pad)}: max abs diff ${dFilter}`);
          assert.ok(dInput <= 1e-4, `input grad pad ${JSON.stringify(pad)}: max abs diff ${dInput}`);
        }
        assert.equal(tf.memory().numTensors, before);
      });
    }
  }

  it('Conv2DBackpropFilter on a ResNet-sized 3x3 layer (16 -> 32 channels, stride 2, batch 4)', async () => {
    const before = tf.memory().numTensors;
    const x = wave(4 * 16 * 16 * 16, 0.013);
    const dy = wave(4 * 8 * 8 * 32, 0.029, 1);
    const d = await cpuVsWasm(() => tf.grad((wt: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(tf.tensor4d(x, [4, 16, 16, 16]), wt as tf.Tensor4D, 2, 'same'), tf.tensor4d(dy, [4, 8, 8, 32]))))(tf.ones([3, 3, 16, 32])));
    assert.ok(d <= 1e-4, `max abs diff ${d}`);
    assert.equal(tf.memory().numTensors, before);
  });

  it('UnsortedSegmentSum: hand-computed sums, dropped out-of-range ids', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]), tf.tensor1d([2, 0, 2, 3], 'int32'), 3));
    // segment 0 = row 1 = [3, 4]; segment 1 = nothing = [0, 0]; segment 2 = rows 0 + 2 = [1+5, 2+6];
    // id 3 >= numSegments is dropped (TensorFlow's CPU semantics).
    assert.deepEqual(Array.from(out.dataSync()), [3, 4, 0, 0, 6, 8]);
    out.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('UnsortedSegmentSum and the gradient of gather match cpu', async () => {
    const before = tf.memory().numTensors;
    const values = wave(6 * 4 * 3, 0.3);
    const ids = [4, 0, 4, 1, 5, 4];
    const seg = await cpuVsWasm(() => tf.unsortedSegmentSum(tf.tensor3d(values, [6, 4, 3]), tf.tensor1d(ids, 'int32'), 7));
    assert.ok(seg <= 1e-6, `segment sum diff ${seg}`);
    // d/dtable sum(gather(table, idx) * g): rows of g added into the gathered rows (row 4 three times).
    const g = wave(6 * 3, 0.5, 1);
    const grad = await cpuVsWasm(() => tf.grad((table: tf.Tensor) =>
      tf.sum(tf.mul(tf.gather(table, tf.tensor1d(ids, 'int32')), tf.tensor2d(g, [6, 3]))))(tf.zeros([7, 3])));
    assert.ok(grad <= 1e-6, `gather grad diff ${grad}`);
    await tf.setBackend('wasm');
    const gradTable = tf.tidy(() => tf.grad((table: tf.Tensor) =>
      tf.sum(tf.mul(tf.gather(table, tf.tensor1d(ids, 'int32')), tf.tensor2d(g, [6, 3]))))(tf.zeros([7, 3])));
    const row4 = gradTable.dataSync().slice(12, 15);
    gradTable.dispose();
    // row 4 receives g rows 0, 2 and 5
    for (let j = 0; j < 3; j++) assert.ok(Math.abs(row4[j] - (g[j] + g[6 + j] + g[15 + j])) < 1e-6);
    assert.equal(tf.memory().numTensors, before);
  });

  it('BatchMatMul with transposed operands (2-D and batched)', async () => {
    const before = tf.memory().numTensors;
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
      const d2 = await cpuVsWasm(() => tf.matMul(tf.tensor2d(wave(7 * 5, 0.3), ta ? [5, 7] : [7, 5]), tf.tensor2d(wave(5 * 6, 0.7), tb ? [6, 5] : [5, 6]), ta, tb));
      const d3 = await cpuVsWasm(() => tf.matMul(tf.tensor3d(wave(3 * 7 * 5, 0.3), ta ? [3, 5, 7] : [3, 7, 5]), tf.tensor3d(wave(3 * 5 * 6, 0.7), tb ? [3, 6, 5] : [3, 5, 6]), ta, tb));
      assert.ok(d2 <= 1e-5 && d3 <= 1e-5, `transposeA ${ta} transposeB ${tb}: ${d2} ${d3}`);
    }
    // hand-computed: [[1, 2], [3, 4]]^T x [[1], [1]] = [[1 + 3], [2 + 4]]
    await tf.setBackend('wasm');
    const r = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([1, 1], [2, 1]), true, false).dataSync());
    assert.deepEqual(Array.from(r), [4, 6]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('Slice of ranks 1 to 6, float32 and int32, with a gradient', async () => {
    const before = tf.memory().numTensors;
    const shapes = [[10], [4, 6], [3, 4, 5], [2, 3, 4, 5], [2, 3, 2, 4, 3], [3, 4, 2, 4, 2, 3]];
    for (const shape of shapes) {
      const n = tf.util.sizeFromShape(shape);
      const begin = shape.map((d) => (d > 2 ? 1 : 0));
      const size = shape.map((d, i) => (i === shape.length - 1 ? -1 : Math.max(1, d - begin[i] - 1)));
      const f = await cpuVsWasm(() => tf.slice(tf.tensor(wave(n, 0.1), shape), begin, size));
      const i = await cpuVsWasm(() => tf.slice(tf.tensor(Int32Array.from({ length: n }, (_, j) => j), shape, 'int32'), begin, size));
      assert.equal(f + i, 0, `shape [${shape}]`);
    }
    // option-A subsample x[:, ::2, ::2] via reshape + 6-D slice, and its gradient (a pad)
    const g = await cpuVsWasm(() => tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(tf.slice(tf.reshape(x, [2, 2, 2, 3, 2, 3]), [0, 0, 0, 0, 0, 0], [2, 2, 1, 3, 1, 3]), tf.tensor(wave(36, 0.9), [2, 2, 1, 3, 1, 3]))))(tf.ones([2, 4, 6, 3])));
    assert.equal(g, 0);
    // hand-computed: [[0, 1, 2], [3, 4, 5]][1:, 1:] = [4, 5]
    await tf.setBackend('wasm');
    assert.deepEqual(Array.from(tf.tidy(() => tf.slice(tf.tensor2d([0, 1, 2, 3, 4, 5], [2, 3]), [1, 1], [1, 2]).dataSync())), [4, 5]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('Tile, including tf.batchNorm\'s per-channel tiling and its gradient', async () => {
    const before = tf.memory().numTensors;
    const cases: Array<[number[], number[]]> = [[[5], [3]], [[2, 3], [3, 2]], [[1, 1, 1, 5], [2, 3, 4, 1]], [[2, 1, 3], [1, 4, 2]], [[2, 3, 1, 2], [2, 1, 3, 1]]];
    for (const [shape, reps] of cases) {
      const n = tf.util.sizeFromShape(shape);
      const f = await cpuVsWasm(() => tf.tile(tf.tensor(wave(n, 0.4), shape), reps));
      const i = await cpuVsWasm(() => tf.tile(tf.tensor(Int32Array.from({ length: n }, (_, j) => j - 3), shape, 'int32'), reps));
      assert.equal(f + i, 0, `tile [${shape}] by [${reps}]`);
    }
    // hand-computed: tile([[1, 2]], [2, 2]) = [[1, 2, 1, 2], [1, 2, 1, 2]]
    await tf.setBackend('wasm');
    assert.deepEqual(Array.from(tf.tidy(() => tf.tile(tf.tensor2d([1, 2], [1, 2]), [2, 2]).dataSync())), [1, 2, 1, 2, 1, 2, 1, 2]);
    const x = wave(3 * 4 * 5 * 6, 0.05);
    const bn = await cpuVsWasm(() => tf.grad((t: tf.Tensor) => {
      const { mean, variance } = tf.moments(t, [0, 1, 2]);
      return tf.sum(tf.mul(tf.batchNorm(t, mean, variance, tf.zeros([6]), tf.ones([6]), 1e-3), tf.tensor(wave(360, 0.3), [3, 4, 5, 6])));
    })(tf.tensor4d(x, [3, 4, 5, 6])));
    assert.ok(bn <= 1e-4, `batchNorm gradient diff ${bn}`);
    assert.equal(tf.memory().numTensors, before);
  });

  it('MaxPoolGrad: 3x3/2 same (the ResNet stem pool), 2x2/2 valid, and a hand-computed case', async () => {
    const before = tf.memory().numTensors;
    const x = wave(2 * 9 * 10 * 5, 0.77);
    for (const [size, stride, pad] of [[3, 2, 'same'], [2, 2, 'valid'], [3, 1, 'same'], [3, 2, 1]] as const) {
      const d = await cpuVsWasm(() => tf.grad((t: tf.Tensor) =>
        tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, size, stride, pad), 1.5)))(tf.tensor4d(x, [2, 9, 10, 5])));
      assert.ok(d <= 1e-6, `maxPool ${size}/${stride} ${pad}: ${d}`);
    }
    // [[1, 5], [3, 2]] pooled 2x2 -> max 5 at (0, 1): d/dx of 2 * max = [[0, 2], [0, 0]]
    await tf.setBackend('wasm');
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.mul(tf.sum(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid')), 2))(tf.tensor4d([1, 5, 3, 2], [1, 2, 2, 1])).dataSync());
    assert.deepEqual(Array.from(g), [0, 2, 0, 0]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('Identity and same-dtype Cast share data without leaking', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    const c = tf.cast(a, 'float32');
    const d = tf.cast(a, 'int32');
    a.dispose(); // the clones keep the shared buffer alive
    assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
    assert.deepEqual(Array.from(c.dataSync()), [1, 2, 3]);
    assert.equal(d.dtype, 'int32');
    tf.dispose([b, c, d]);
    assert.equal(tf.memory().numTensors, before);
  });
});
