import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { padBatch, postprocess, resizeScale, scaleBoxes, scaledSize } from '../../detectors/transform.ts';

describe('detectors/transform', () => {
  before(async () => {
    await initBackend();
  });

  it('resizeScale: shorter side 600 unless the longer side would pass 1000', () => {
    // VOC 500 x 375: 600 / 375 = 1.6, longer side 800 <= 1000
    assert.equal(resizeScale(375, 500), 1.6);
    assert.deepEqual(scaledSize(375, 500, 1.6), { height: 600, width: 800 });
    // 300 x 1000: 600 / 300 = 2 would make 2000 > 1000 -> 1000 / 1000 = 1
    assert.equal(resizeScale(300, 1000), 1);
    assert.equal(resizeScale(100, 100, 50, 80), 0.5);
  });

  it('boxes go in multiplied by the scale and come back divided and clipped', () => {
    const det = { boxes: Float32Array.from([16, 32, 800, 600]), scores: Float32Array.from([0.9]), labels: Int32Array.from([4]) };
    assert.deepEqual(Array.from(scaleBoxes(Float32Array.from([10, 20, 30, 40]), 1.6)), [16, 32, 48, 64]);
    // / 1.6 -> [10, 20, 500, 375]; clipped to a 370 x 490 original
    const back = postprocess(det, 1.6, { height: 370, width: 490 });
    assert.deepEqual(Array.from(back.boxes), [10, 20, 490, 370]);
    assert.equal(back.labels[0], 4);
  });

  it('padBatch: bottom/right zero padding to a multiple of the divisor, valid sizes kept', () => {
    const before = tf.memory().numTensors;
    const a = { data: new Float32Array(2 * 3 * 3).fill(1), height: 2, width: 3 };
    const b = { data: new Float32Array(5 * 1 * 3).fill(2), height: 5, width: 1 };
    const { batch, sizes } = padBatch([a, b], 4);
    assert.deepEqual(batch.shape, [2, 8, 4, 3]); // max 5 x 3 rounded up to 8 x 4
    assert.deepEqual(sizes, [{ height: 2, width: 3 }, { height: 5, width: 1 }]);
    const v = batch.arraySync();
    assert.deepEqual(v[0][1][2], [1, 1, 1]);
    assert.deepEqual(v[0][1][3], [0, 0, 0]);
    assert.deepEqual(v[1][4][0], [2, 2, 2]);
    assert.deepEqual(v[1][5][0], [0, 0, 0]);
    batch.dispose();
    assert.equal(tf.memory().numTensors, before);
    assert.throws(() => padBatch([{ data: new Float32Array(5), height: 1, width: 2 }]), /image 0/);
  });
});
