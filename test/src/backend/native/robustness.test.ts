/**
 * The native addon under misuse and long runs (issue 8 "Correctness", issue 10 "Under load"):
 * wrong types, short arrays and impossible geometry give JS errors, never a crash; random-shape
 * kernel calls leave no tensors, no cached weights and no growing native memory behind.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { loadAddon } from '../../../../src/backend/native/addon.ts';
import { Rng } from '../../../../src/random.ts';
import { requireNative } from '../../../helpers/native.ts';

describe('native backend: bad arguments and long runs', function () {
  let previous: string;
  before(async function () {
    await requireNative(this);
    previous = tf.getBackend();
    await tf.setBackend('native');
  });
  after(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it('rejects wrong types, short arrays and bad geometry with an error', () => {
    const addon = loadAddon();
    const geometry = Int32Array.from([1, 4, 4, 2, 3, 3, 2, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1]);
    const ok = () => addon.conv2d(new Float32Array(32), new Float32Array(36), null, null, new Float32Array(32), geometry, 0, 0, 0);
    ok();
    assert.throws(() => addon.conv2d(new Float32Array(31), new Float32Array(36), null, null, new Float32Array(32), geometry, 0, 0, 0), /x: expected at least 32 elements, got 31/);
    assert.throws(() => addon.conv2d(new Float64Array(32) as unknown as Float32Array, new Float32Array(36), null, null, new Float32Array(32), geometry, 0, 0, 0), /x: expected a Float32Array/);
    assert.throws(() => addon.conv2d(new Float32Array(32), new Float32Array(36), null, null, new Float32Array(32), geometry.subarray(0, 5), 0, 0, 0), /expected 17 integers/);
    const negative = geometry.slice();
    negative[1] = -4;
    assert.throws(() => addon.conv2d(new Float32Array(32), new Float32Array(36), null, null, new Float32Array(32), negative, 0, 0, 0), /must be >= 1/);
    assert.throws(() => (addon.conv2d as unknown as () => void)(), /expected 9 arguments/);
    assert.throws(() => addon.matmul(new Float32Array(6), new Float32Array(6), null, new Float32Array(4), Int32Array.from([2, 3, 2, 3, 2, 0, 0]), 0, 0), /batch sizes must match or be 1/);
    assert.throws(() => addon.binary(0, new Float32Array(6), Int32Array.from([2, 3]), new Float32Array(4), Int32Array.from([4]), new Float32Array(6), Int32Array.from([2, 3])), /do not broadcast/);
    assert.throws(() => addon.roiPoolBackward(new Float32Array(4), Int32Array.from([0, 1, 2, 99]), 2, new Float32Array(8)), /argmax outside dx/);
    assert.throws(() => addon.sparseScatter(new Float32Array(4), 2, Int32Array.from([0]), Int32Array.from([7]), Float32Array.from([1]), new Float32Array(4)), /out of range/);
    assert.throws(() => addon.setThreads(0), /threads: expected 1\.\.1024/);
    // and tfjs's own checks still come first for op-level misuse
    assert.throws(() => tf.conv2d(tf.zeros([1, 4, 4, 2]) as tf.Tensor4D, tf.zeros([3, 3, 3, 2]) as tf.Tensor4D, 1, 'same'), /depth of input \(2\) must match input depth for filter 3/);
  });

  it('1,000 random-shape kernel calls: no tensor, cached weight or native memory left behind', () => {
    const addon = loadAddon();
    const rng = new Rng(11);
    const run = (calls: number) => {
      for (let i = 0; i < calls; i++) {
        const [h, w, ci, co, k] = [rng.int(3, 24), rng.int(3, 24), rng.int(1, 32), rng.int(1, 32), rng.int(0, 2) * 2 + 1];
        tf.tidy(() => {
          const x = tf.randomNormal([rng.int(1, 3), h, w, ci]) as tf.Tensor4D;
          const f = tf.randomNormal([k, k, ci, co]) as tf.Tensor4D;
          const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, rng.int(1, 3), 'same'))))([x, f]);
          tf.maxPool(tf.add(dx, 1) as tf.Tensor4D, 2, 2, 'valid').dataSync();
          tf.matMul(tf.reshape(df, [-1, co]), tf.randomNormal([co, 5])).dataSync();
        });
      }
    };
    const tensors = tf.memory().numTensors;
    // weights cached by earlier tests' live models (this test's tensors all die in their tidy)
    const cached = addon.info().cachedWeights;
    run(100); // warm-up: primitive caches, the buffer pool
    const rss = process.memoryUsage().rss;
    run(900);
    const grown = (process.memoryUsage().rss - rss) / 2 ** 20;
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(addon.info().cachedWeights, cached, 'every cached weight layout was freed with its tensor');
    assert.ok(grown < 150, `RSS grew by ${grown.toFixed(0)} MB over 900 calls`);
  });
});
