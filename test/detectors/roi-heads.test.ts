import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { ROI_HEADS_DEFAULTS } from '../../detectors/config.ts';
import { RoIHeads } from '../../detectors/roi-heads.ts';
import { Rng } from '../../src/random.ts';
import { FakeBackbone } from '../helpers/fake-backbone.ts';

const f = (...v: number[]) => Float32Array.from(v);

describe('detectors/roi-heads', () => {
  let backbone: FakeBackbone;
  let heads: RoIHeads;
  before(async () => {
    await initBackend();
    backbone = new FakeBackbone(0);
    const d = backbone.detection;
    heads = new RoIHeads({ config: ROI_HEADS_DEFAULTS, numClasses: 3, head: d.head, headChannels: d.headChannels, pooledSize: d.pooledSize, stride: 16, rng: new Rng(0) });
  });
  after(() => {
    heads.dispose();
    backbone.dispose();
  });

  it('sampleImage: GT appended, fg at IoU >= 0.5 with its class, bg in [0.1, 0.5), targets / (0.1, 0.1, 0.2, 0.2)', () => {
    // GT [0,0,20,20] class index 2, score column 3 (background is column 0). Proposals: p0 [0,0,20,10] IoU 0.5 -> fg; p1 [0,0,20,4] IoU 0.2 -> bg;
    // p2 [0,0,20,1] IoU 0.05 -> neither (below BG_THRESH_LO 0.1); then the GT itself (IoU 1) -> fg.
    const s = heads.sampleImage(f(0, 0, 20, 10, 0, 0, 20, 4, 0, 0, 20, 1), { boxes: f(0, 0, 20, 20), labels: Int32Array.from([2]) }, new Rng(0));
    assert.deepEqual(Array.from(s.labels), [3, 3, 0]);
    assert.deepEqual(Array.from(s.rois), [0, 0, 20, 10, 0, 0, 20, 20, 0, 0, 20, 4]);
    // p0 -> GT: dx 0, dy = 10 * (10 - 5) / 10 = 5, dw = 0, dh = 5 * log(20 / 10) = 3.4657; GT -> GT: 0
    const t = Array.from(s.targets);
    [0, 5, 0, 5 * Math.log(2), 0, 0, 0, 0, 0, 0, 0, 0].forEach((v, i) => assert.ok(Math.abs(t[i] - v) < 1e-5, `${i}: ${t[i]}`));
  });

  it('sampleImage: at most 25% of 128 foreground; an image without GT gives only background', () => {
    const many = new Float32Array(4 * 300);
    for (let i = 0; i < 300; i++) many.set(i < 100 ? [0, 0, 20, 20] : [0, 0, 20, 6], 4 * i); // IoU 1 (fg) or 0.3 (bg)
    const s = heads.sampleImage(many, { boxes: f(0, 0, 20, 20), labels: Int32Array.from([0]) }, new Rng(1));
    assert.equal(s.labels.length, 128);
    assert.equal(s.labels.filter((l) => l > 0).length, 32);
    const bg = heads.sampleImage(f(0, 0, 10, 10, 5, 5, 30, 30), { boxes: new Float32Array(0), labels: new Int32Array(0) }, new Rng(1));
    assert.deepEqual(Array.from(bg.labels), [0, 0]);
    const nothing = heads.sampleImage(new Float32Array(0), { boxes: new Float32Array(0), labels: new Int32Array(0) }, new Rng(1));
    assert.equal(nothing.labels.length, 0);
  });

  it('postprocess: score threshold, per-class NMS 0.3, class-specific boxes, top-k; column j is class index j - 1', () => {
    const k1 = 4;
    // 3 proposals; zero deltas -> each class box = the proposal. Proposals 0 and 1 overlap (IoU 0.82).
    const proposals = f(0, 0, 10, 10, 1, 0, 11, 10, 50, 50, 60, 60);
    const probs = f(
      0.1, 0.8, 0.04, 0.06, // p0: class 1 0.8, class 3 0.06 (class 2 < 0.05 dropped)
      0.2, 0.7, 0.1, 0.0, // p1: class 1 0.7 (suppressed by p0), class 2 0.1 (kept: other class)
      0.5, 0.0, 0.0, 0.5, // p2: class 3 0.5
    );
    const d = heads.postprocess(probs, new Float32Array(3 * 4 * k1), proposals, { height: 100, width: 100 });
    // columns 1, 3, 2, 3 = class indices 0, 2, 1, 2
    assert.deepEqual(Array.from(d.labels), [0, 2, 1, 2]);
    assert.deepEqual(Array.from(d.scores).map((v) => Math.round(v * 100) / 100), [0.8, 0.5, 0.1, 0.06]);
    assert.deepEqual(Array.from(d.boxes.subarray(0, 4)), [0, 0, 10, 10]);
  });

  it('forwardRoIs + losses: shapes, finite values, no leak; no RoI at all -> zeros', () => {
    const before = tf.memory().numTensors;
    const feats = tf.randomNormal([1, 4, 4, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
    const out = heads.forwardRoIs(feats, f(0, 0, 32, 32, 10, 10, 60, 50), Int32Array.from([0, 0]));
    assert.deepEqual(out.classLogits.shape, [2, 4]);
    assert.deepEqual(out.boxDeltas.shape, [2, 16]);
    const l = heads.losses(feats, [f(0, 0, 30, 30, 20, 20, 60, 60)], [{ boxes: f(0, 0, 32, 32), labels: Int32Array.from([1]) }], new Rng(0));
    assert.ok(Number.isFinite(l.cls.dataSync()[0]) && Number.isFinite(l.box.dataSync()[0]));
    const z = heads.losses(feats, [new Float32Array(0)], [{ boxes: new Float32Array(0), labels: new Int32Array(0) }], new Rng(0));
    assert.deepEqual([z.cls.dataSync()[0], z.box.dataSync()[0]], [0, 0]);
    tf.dispose([feats, out.classLogits, out.boxDeltas, l.cls, l.box, z.cls, z.box]);
    assert.equal(tf.memory().numTensors, before);
  });
});
