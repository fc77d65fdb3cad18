import assert from 'node:assert/strict';
import {
  evalVocClass, VOC07_RECALL_THRESHOLDS, vocAp, VocEvaluator, vocIou, type VocGtImage,
} from '../../../src/eval/voc.ts';

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-9, `${what}: got ${a}, expected ${b}`);

describe('src/eval/voc', () => {
  describe('vocAp', () => {
    it('uses np.arange thresholds: recall exactly 0.3 does not reach the "0.3" point', () => {
      assert.deepEqual(Array.from(VOC07_RECALL_THRESHOLDS),
        [0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9, 1]);
      // One TP at recall 3/10 = 0.3 with precision 1: points 0, 0.1, 0.2 reach it (3 of 11),
      // "0.30000000000000004" does not: AP = 1/11 + 1/11 + 1/11.
      assert.equal(vocAp([0.3], [1], true), 1 / 11 + 1 / 11 + 1 / 11);
    });

    it('computes the area under the precision envelope', () => {
      // rec [0.5, 0.5, 1], prec [1, 0.5, 2/3]: envelope [1, 2/3, 2/3] at recall steps
      // 0->0.5 (x1) and 0.5->1 (x 2/3): 0.5 + 0.5 * 2/3 = 0.8333...
      close(vocAp([0.5, 0.5, 1], [1, 0.5, 2 / 3], false), 0.5 + 0.5 * (2 / 3), 'area');
      // 11-point: t <= 0.5 -> max prec 1 (6 points); t in 0.6..1 -> 2/3 (5 points).
      close(vocAp([0.5, 0.5, 1], [1, 0.5, 2 / 3], true), 6 / 11 + 5 * (2 / 3) / 11, '07');
    });

    it('gives 0 for an empty curve and NaN area for 0/0 recall, as voc_ap', () => {
      assert.equal(vocAp([], [], true), 0);
      assert.equal(vocAp([], [], false), 0);
      assert.equal(vocAp([NaN], [0], true), 0);
      assert.ok(Number.isNaN(vocAp([NaN], [0], false)));
    });
  });

  it('vocIou uses +1 pixel widths on the 1-based values', () => {
    // VOC boxes (1-based) [1,1,10,10] and [6,1,15,10] -> internal [0,0,10,10], [5,0,15,10].
    // Widths 10 each, intersection x 6..10 = 5 px, y 10 px: 50 / (100 + 100 - 50) = 1/3.
    assert.equal(vocIou([0, 0, 10, 10], [5, 0, 15, 10]), 50 / 150);
    // Touching boxes share no pixel: [1,1,10,10] and [11,1,20,10].
    assert.equal(vocIou([0, 0, 10, 10], [10, 0, 20, 10]), 0);
  });

  describe('evalVocClass matching', () => {
    const gtOf = (boxes: number[][], difficult: number[]) => ({
      offsets: Int32Array.from([0, boxes.length]), boxes: Float64Array.from(boxes.flat()), difficult: Uint8Array.from(difficult),
    });
    const detsOf = (boxes: number[][], scores: number[]) => ({
      image: new Int32Array(boxes.length), scores: Float64Array.from(scores), boxes: Float64Array.from(boxes.flat()),
    });

    it('IoU exactly 0.5 is a false positive (strict >)', () => {
      // GT [0,0,10,10] (100 px); det [0,0,10,20] (200 px) covers it: IoU 100/200 = 0.5.
      const r = evalVocClass(gtOf([[0, 0, 10, 10]], [0]), detsOf([[0, 0, 10, 20]], [0.9]));
      assert.deepEqual([r.npos, Array.from(r.rec), Array.from(r.prec), r.ap07, r.apArea], [1, [0], [0], 0, 0]);
    });

    it('a detection whose argmax GT is difficult is ignored, even over a normal GT', () => {
      // difficult GT A [0,0,10,10], normal GT B [1,0,11,10]; det [0,0,10,10] has IoU 1 with A
      // and 90/110 with B: argmax A (difficult) -> neither TP nor FP. npos = 1, no TP: AP 0.
      const r = evalVocClass(gtOf([[0, 0, 10, 10], [1, 0, 11, 10]], [1, 0]), detsOf([[0, 0, 10, 10]], [0.9]));
      assert.deepEqual([r.npos, r.numDifficult, Array.from(r.rec), Array.from(r.prec)], [1, 1, [0], [0]]);
    });

    it('a second detection on an already matched argmax GT is FP even if another GT overlaps', () => {
      // GT A [0,0,10,10], GT B [1,0,11,10]; both dets are [0,0,10,10] (argmax A each time).
      // det1 (0.9) TP on A; det2 (0.8) FP although IoU(B) = 90/110 > 0.5.
      // rec [1/2, 1/2], prec [1, 1/2]; area AP = 0.5 * 1 = 0.5; 11-pt: t <= 0.5 -> 1 (6 pts) = 6/11.
      const r = evalVocClass(gtOf([[0, 0, 10, 10], [1, 0, 11, 10]], [0, 0]), detsOf([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8]));
      assert.deepEqual(Array.from(r.prec), [1, 0.5]);
      assert.equal(r.apArea, 0.5);
      close(r.ap07, 6 / 11, 'ap07');
    });
  });

  describe('VocEvaluator', () => {
    const gt: VocGtImage[] = [
      { id: 'a', objects: [{ name: 'cat', box: [0, 0, 10, 10], difficult: false }, { name: 'dog', box: [20, 20, 40, 40], difficult: false }] },
      { id: 'b', objects: [{ name: 'cat', box: [5, 5, 15, 15], difficult: true }, { name: 'horse', box: [0, 0, 1, 1], difficult: false }] },
    ];

    it('averages over the whole class list (no GT and no detections: AP 0) and resets', () => {
      const ev = new VocEvaluator(gt, { classes: ['cat', 'dog', 'bird'] });
      ev.process([
        { imageId: 'a', name: 'cat', score: 0.9, box: [0, 0, 10, 10] }, // TP
        { imageId: 'b', name: 'cat', score: 0.8, box: [5, 5, 15, 15] }, // on difficult: ignored
        { imageId: 'b', name: 'cat', score: 0.7, box: [30, 30, 35, 35] }, // FP
      ]);
      const r = ev.evaluate();
      // cat: rec [1, 1], prec [1, 1/2] -> AP 1 both; dog: GT, no dets -> 0; bird -> 0. mAP = 1/3.
      // 11 x (1/11) summed one after another is 1.0000000000000002, as in voc_ap.
      let elevenElevenths = 0;
      for (let i = 0; i < 11; i++) elevenElevenths += 1 / 11;
      assert.deepEqual(r.ap07, { cat: elevenElevenths, dog: 0, bird: 0 });
      assert.deepEqual(r.apArea, { cat: 1, dog: 0, bird: 0 });
      assert.deepEqual(r.perClass.map((c) => [c.npos, c.numDifficult, c.numDets]), [[1, 1, 3], [1, 0, 0], [0, 0, 0]]);
      close(r.mAP07, 1 / 3, 'mAP07');
      ev.reset();
      assert.equal(ev.evaluate().mAPArea, 0);
    });

    it('a class with detections but only difficult GT: 11-point AP 0, area AP NaN (as voc_eval)', () => {
      // b's cat is difficult, a has no cat: npos = 0, recall 0/0 = NaN for the one detection.
      const ev = new VocEvaluator([gt[1]], { classes: ['cat'] });
      ev.process([{ imageId: 'b', name: 'cat', score: 0.5, box: [0, 0, 3, 3] }]);
      const r = ev.evaluate();
      assert.equal(r.ap07.cat, 0);
      assert.ok(Number.isNaN(r.apArea.cat) && Number.isNaN(r.mAPArea));
    });

    it('rejects unknown image ids and classes, and bad boxes', () => {
      const ev = new VocEvaluator(gt, { classes: ['cat', 'dog'] });
      assert.throws(() => ev.process([{ imageId: 'zz', name: 'cat', score: 1, box: [0, 0, 1, 1] }]), /detections: \[0\]\.imageId: expected an image id of the ground truth, got "zz"/);
      assert.throws(() => ev.process([{ imageId: 'a', name: 'horse', score: 1, box: [0, 0, 1, 1] }]), /\[0\]\.name/);
      assert.throws(() => ev.process([{ imageId: 'a', name: 'cat', score: NaN, box: [0, 0, 1, 1] }]), /\[0\]\.score/);
      assert.throws(() => ev.process([{ imageId: 'a', name: 'cat', score: 1, box: [0, 0, 0, 1] }]), /\[0\]\.box/);
    });
  });
});
