import assert from 'node:assert/strict';
import { Rng } from '../../../src/random.ts';
import { centreCrop, cifarEval, cifarTrain, cropNormalise, imagenetTrain, pixelMean, tenCrop, type Normalisation } from '../../../datasets/classification/augment.ts';
import type { ClassificationRecord } from '../../../datasets/classification/records.ts';
import type { Pixels } from '../../../datasets/classification/decode.ts';

const IDENTITY: Normalisation = { kind: 'channelMean', mean: [0, 0, 0] };

/** An h x w RGB image whose pixel (y, x) is (y, x, 7). */
function positions(h: number, w: number): Pixels {
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([y, x, 7], (y * w + x) * 3);
  return { data, width: w, height: h, channels: 3 };
}
const at = (a: Float32Array, w: number, y: number, x: number): number[] => [...a.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)];

describe('datasets/classification augment', () => {
  it('cropNormalise crops, flips and zero-pads outside the image', () => {
    const src = positions(8, 8);
    const out = cropNormalise(src, 2, 3, 4, 4, false, IDENTITY);
    assert.deepEqual(at(out, 4, 0, 0), [2, 3, 7]);
    assert.deepEqual(at(out, 4, 3, 3), [5, 6, 7]);
    const flipped = cropNormalise(src, 2, 3, 4, 4, true, IDENTITY);
    // a flip mirrors the crop: out(y, x) = crop(y, 3 - x)
    assert.deepEqual(at(flipped, 4, 0, 0), [2, 6, 7]);
    assert.deepEqual(at(flipped, 4, 1, 3), [3, 3, 7]);
    // the CIFAR recipe's 4-pixel zero padding: crop at (-4, -4) has zeros in its first 4 rows/cols
    const padded = cropNormalise(src, -4, -4, 8, 8, false, IDENTITY);
    assert.deepEqual(at(padded, 8, 3, 7), [0, 0, 0]);
    assert.deepEqual(at(padded, 8, 7, 3), [0, 0, 0]);
    assert.deepEqual(at(padded, 8, 4, 4), [0, 0, 7]);
  });

  it('normalisations: torchvision mean/std, per-channel and per-pixel mean', () => {
    const src: Pixels = { data: new Uint8Array([255, 0, 51]), width: 1, height: 1, channels: 3 };
    // (255/255 - 0.5)/0.25 = 2; (0 - 0.5)/0.5 = -1; (51/255 - 0.2)/1 = 0
    const a = cifarEval(src, { kind: 'meanStd', mean: [0.5, 0.5, 0.2], std: [0.25, 0.5, 1] });
    [2, -1, 0].forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-6, `${a[i]} vs ${v}`));
    assert.deepEqual([...cifarEval(src, { kind: 'channelMean', mean: [5, 0, 1] })], [250, 0, 50]);
    assert.deepEqual([...cifarEval(src, { kind: 'pixelMean', mean: new Float32Array([255, 1, 51]) })], [0, -1, 0]);
    // per-pixel mean of two 1x1 images: (255 + 1)/2 = 128, (0 + 3)/2 = 1.5, (51 + 0)/2 = 25.5
    assert.deepEqual([...pixelMean(new Uint8Array([255, 0, 51, 1, 3, 0]), 2, 1, 1)], [128, 1.5, 25.5]);
  });

  it('cifarTrain gives one of the 9x9x2 pad-crop-flip views, reproducible from the Rng', () => {
    const src = positions(32, 32);
    const out = cifarTrain(src, new Rng(5), IDENTITY);
    assert.equal(out.length, 32 * 32 * 3);
    const views: string[] = [];
    for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) for (const f of [false, true]) if (cropNormalise(src, dy, dx, 32, 32, f, IDENTITY).every((v, i) => v === out[i])) views.push(`${dy},${dx},${f}`);
    assert.equal(views.length, 1);
    assert.deepEqual(cifarTrain(src, new Rng(5), IDENTITY), out);
    // over many draws both flips and all 9 vertical shifts occur
    const seen = new Set<number>();
    const rng = new Rng(1);
    for (let i = 0; i < 400; i++) {
      const o = cifarTrain(src, rng, IDENTITY);
      seen.add(o[(16 * 32 + 16) * 3]); // the source row at the centre: 16 + dy
    }
    assert.equal(seen.size, 9);
  });

  it('ImageNet: random scale/crop/flip/colour gives 224x224x3; centre crop and 10-crop', async () => {
    const px = positions(300, 250);
    const record: ClassificationRecord = { id: 'x', label: 0, image: { kind: 'pixels', pixels: px.data, width: 250, height: 300, channels: 3 } };
    const a = await imagenetTrain(record, new Rng(3), IDENTITY);
    assert.equal(a.length, 224 * 224 * 3);
    assert.deepEqual(await imagenetTrain(record, new Rng(3), IDENTITY), a);
    assert.ok(a.every(Number.isFinite));
    const c = await centreCrop(record, IDENTITY);
    assert.equal(c.length, 224 * 224 * 3);
    const ten = await tenCrop(record, IDENTITY);
    assert.equal(ten.length, 10);
    // crop 5 is the top-left crop flipped: crop5(y, x) = crop0(y, 223 - x)
    for (const [y, x] of [[0, 0], [10, 100], [223, 223]]) assert.deepEqual(at(ten[5], 224, y, x), at(ten[0], 224, y, 223 - x));
    // the shorter side is 256: a 250x300 image becomes 256 wide, 307 high; the bottom-left
    // crop starts at row 307 - 224 = 83, whose green values (the x coordinate scaled) start near 0
    assert.ok(at(ten[2], 224, 0, 0)[1] <= 1);
  });
});
