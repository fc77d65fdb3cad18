import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { RPN_DEFAULTS } from '../../detectors/config.ts';
import { RegionProposalNetwork } from '../../detectors/rpn.ts';
import { gridAnchors } from '../../detectors/anchors.ts';
import { iou } from '../../src/boxes/index.ts';
import { Rng } from '../../src/random.ts';

describe('detectors/rpn', () => {
  before(async () => {
    await initBackend();
  });

  // one 32 px square anchor per cell of a 4x4 map at stride 16 (a 64x64 image):
  // cell (x, y) -> [16x - 16, 16y - 16, 16x + 16, 16y + 16]
  const config = { ...RPN_DEFAULTS, anchorSizes: [32], anchorRatios: [1] };
  const size = { height: 64, width: 64 };

  it('assignTargets: IoU >= 0.7 positive, < 0.3 negative, border-crossing anchors ignored', () => {
    const rpn = new RegionProposalNetwork(config, 4, 16, new Rng(0));
    const anchors = gridAnchors(4, 4, 16, { sizes: [32], ratios: [1] });
    const gt = { boxes: Float32Array.from([0, 0, 32, 32]), labels: Int32Array.from([1]) };
    const { labels, targets } = rpn.assignTargets(anchors, gt, size, new Rng(1));
    // inside anchors: x, y in {1, 2, 3}. (1,1) = GT: IoU 1 -> positive. (2,1), (1,2): inter 16*32 = 512,
    // union 2048 - 512 = 1536 -> 1/3, in [0.3, 0.7) -> ignored. (2,2): 256 / 1792 = 0.14 -> negative;
    // every anchor touching x = 32 or y = 32 from outside -> 0 -> negative. Row 0 / column 0 cross the border.
    const grid = (x: number, y: number) => labels[y * 4 + x];
    assert.equal(grid(1, 1), 1);
    assert.equal(grid(2, 1), -1);
    assert.equal(grid(1, 2), -1);
    for (const [x, y] of [[2, 2], [3, 1], [3, 2], [3, 3], [1, 3], [2, 3]]) assert.equal(grid(x, y), 0, `(${x}, ${y})`);
    for (let k = 0; k < 4; k++) {
      assert.equal(grid(0, k), -1);
      assert.equal(grid(k, 0), -1);
    }
    assert.deepEqual(Array.from(targets.subarray(20, 24)), [0, 0, 0, 0]); // anchor 5 = the GT box
    rpn.dispose();
  });

  it('assignTargets: each GT gets its best anchor even below 0.7; no GT -> only negatives', () => {
    const rpn = new RegionProposalNetwork({ ...config, allowedBorder: 1e9 }, 4, 16, new Rng(0));
    const anchors = gridAnchors(4, 4, 16, { sizes: [32], ratios: [1] });
    // GT [40, 40, 60, 50]: best anchors are (3,3) = [32,32,64,64] (IoU 200/1024 = 0.195) -> positive
    const { labels, targets } = rpn.assignTargets(anchors, { boxes: Float32Array.from([40, 40, 60, 50]), labels: Int32Array.from([1]) }, size, new Rng(1));
    assert.equal(labels[15], 1);
    // targets vs [32,32,64,64] (centre 48, 48, side 32): dx = (50 - 48) / 32, dy = (45 - 48) / 32, log(20/32), log(10/32)
    const t = Array.from(targets.subarray(60, 64));
    [2 / 32, -3 / 32, Math.log(20 / 32), Math.log(10 / 32)].forEach((v, i) => assert.ok(Math.abs(t[i] - v) < 1e-5));
    const none = rpn.assignTargets(anchors, { boxes: new Float32Array(0), labels: new Int32Array(0) }, size, new Rng(1));
    assert.equal(none.labels.filter((l) => l === 1).length, 0);
    assert.equal(none.labels.filter((l) => l === 0).length, 16);
    rpn.dispose();
  });

  it('propose: hand-computed filtering (min size, then NMS 0.7 by objectness)', () => {
    const rpn = new RegionProposalNetwork({ ...RPN_DEFAULTS, minSize: 4 }, 4, 16, new Rng(0));
    // zero deltas: proposals = anchors clipped to 64 x 64. a0 [0,0,10,10] 1.0; a1 [1,0,11,10] 2.0
    // (IoU with a0 = 90/110 = 0.82 > 0.7); a2 [50,50,52,52] 3.0 is 2 px wide < minSize 4;
    // a3 [-8,40,20,80] -> clipped [0,40,20,64] 0.5. Kept: a1 (suppresses a0), a3.
    const anchors = Float32Array.from([0, 0, 10, 10, 1, 0, 11, 10, 50, 50, 52, 52, -8, 40, 20, 80]);
    const { boxes, scores } = rpn.propose([1, 2, 3, 0.5], new Float32Array(16), anchors, size, false);
    assert.deepEqual(Array.from(boxes), [1, 0, 11, 10, 0, 40, 20, 64]);
    assert.deepEqual(Array.from(scores), [2, 0.5]);
    rpn.dispose();
  });

  it('propose: minSize is in original-image pixels, scaled by the image size\'s scaleX/scaleY (py-faster-rcnn)', () => {
    const rpn = new RegionProposalNetwork({ ...RPN_DEFAULTS, minSize: 16 }, 4, 16, new Rng(0));
    // zero deltas: a0 [0,0,10,10] is 10 x 10 input px, a1 [20,0,26,40] 6 x 40; no overlap (no NMS effect)
    const anchors = Float32Array.from([0, 0, 10, 10, 20, 0, 26, 40]);
    const kept = (s: { scaleX?: number; scaleY?: number }): number[] => Array.from(rpn.propose([1, 2], new Float32Array(8), anchors, { ...size, ...s }, false).boxes);
    // scale 1 (default): 16 input px -> both dropped (10 < 16, 6 < 16)
    assert.deepEqual(kept({}), []);
    // image halved (py-faster-rcnn im_scale 0.5): 16 * 0.5 = 8 input px -> a0 kept (10 >= 8), a1 dropped (6 < 8)
    assert.deepEqual(kept({ scaleX: 0.5, scaleY: 0.5 }), [0, 0, 10, 10]);
    // per axis 0.25 / 2: width >= 4, height >= 32 -> a0 dropped (height 10), a1 kept (6 >= 4, 40 >= 32)
    assert.deepEqual(kept({ scaleX: 0.25, scaleY: 2 }), [20, 0, 26, 40]);
    rpn.dispose();
  });

  it('propose: clipped, >= minSize, sorted, NMS-separated, at most postNmsTopN', () => {
    const rpn = new RegionProposalNetwork({ ...RPN_DEFAULTS, anchorSizes: [16, 32], minSize: 4, postNmsTopNTest: 10 }, 4, 16, new Rng(0));
    const rng = new Rng(3);
    const anchors = gridAnchors(4, 4, 16, { sizes: [16, 32], ratios: RPN_DEFAULTS.anchorRatios });
    const k = anchors.length / 4;
    const logits = Float32Array.from({ length: k }, () => rng.normal());
    const deltas = Float32Array.from({ length: 4 * k }, () => rng.normal() * 0.3);
    const { boxes, scores } = rpn.propose(logits, deltas, anchors, size, false);
    const n = boxes.length / 4;
    assert.ok(n > 0 && n <= 10, `${n} proposals`);
    for (let i = 0; i < n; i++) {
      const [x1, y1, x2, y2] = boxes.subarray(4 * i, 4 * i + 4);
      assert.ok(x1 >= 0 && y1 >= 0 && x2 <= 64 && y2 <= 64 && x2 - x1 >= 4 && y2 - y1 >= 4);
      if (i > 0) assert.ok(scores[i] <= scores[i - 1]);
      for (let j = 0; j < i; j++) assert.ok(iou(boxes.subarray(4 * i, 4 * i + 4), boxes.subarray(4 * j, 4 * j + 4)) <= 0.7);
    }
    rpn.dispose();
  });

  it('forward: head shapes [N, h*w*A] and [N, h*w*A, 4]; channels read from the trunk', () => {
    const before = tf.memory().numTensors;
    const rpn = new RegionProposalNetwork(RPN_DEFAULTS, 6, 16, new Rng(0));
    assert.equal(rpn.head.conv.outChannels, 6); // 'trunk'
    const x = tf.randomNormal([2, 3, 5, 6]) as tf.Tensor4D;
    const out = rpn.forward(x, [size, size], true);
    assert.deepEqual(out.logits.shape, [2, 3 * 5 * 9]);
    assert.deepEqual(out.deltas.shape, [2, 3 * 5 * 9, 4]);
    assert.equal(out.proposals.length, 2);
    tf.dispose([x, out.logits, out.deltas]);
    rpn.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
