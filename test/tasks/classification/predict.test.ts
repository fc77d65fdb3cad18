import assert from 'node:assert/strict';
import { inTopK, prepareInputs, topK, type Classifier } from '../../../tasks/classification/predict.ts';
import type { ClassificationRecord } from '../../../datasets/classification/records.ts';

/** A solid-colour in-memory image record. */
function solid(width: number, height: number, rgb: [number, number, number]): ClassificationRecord {
  const pixels = new Uint8Array(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rgb[i % 3];
  return { id: 'solid', image: { kind: 'pixels', pixels, width, height, channels: 3 }, label: 0 };
}

/** Only the fields prepareInputs reads. */
const imagenet = (preprocess: 'torchvision' | 'caffe'): Classifier => ({ inputSize: 224, resizeTo: 256, preprocess, classes: null } as unknown as Classifier);

describe('classify/predict', () => {
  it('topK ranks logits with softmax probabilities (ties: lower index first)', () => {
    // logits [1, 3, 3, 0]: exp shifted by max 3 -> [e^-2, 1, 1, e^-3], sum = 2 + e^-2 + e^-3
    const r = topK([1, 3, 3, 0], 3, ['a', 'b', 'c', 'd']);
    assert.deepEqual(r.map((x) => x.index), [1, 2, 0]);
    assert.equal(r[0].class, 'b');
    const sum = 2 + Math.exp(-2) + Math.exp(-3);
    assert.ok(Math.abs(r[0].prob - 1 / sum) < 1e-12);
    assert.ok(Math.abs(r[2].prob - Math.exp(-2) / sum) < 1e-12);
    assert.equal(topK([5], 5).length, 1);
  });

  it('inTopK counts ties against the label (strict rank)', () => {
    assert.equal(inTopK([0, 2, 1], 1, 1), true);
    assert.equal(inTopK([0, 2, 1], 2, 1), false);
    assert.equal(inTopK([0, 2, 1], 2, 2), true);
    assert.equal(inTopK([3, 3], 1, 1), false); // index 0 ties and comes first
    assert.equal(inTopK([3, 3], 0, 1), true);
  });

  it('torchvision: a 224x224 image is used as is, (v/255 - mean) / std per RGB channel', async () => {
    const [x] = await prepareInputs(imagenet('torchvision'), solid(224, 224, [10, 20, 30]));
    assert.equal(x.length, 224 * 224 * 3);
    // (10/255 - 0.485)/0.229 = -1.9468..., (20/255 - 0.456)/0.224 = -1.6855..., (30/255 - 0.406)/0.225 = -1.2816...
    const want = [(10 / 255 - 0.485) / 0.229, (20 / 255 - 0.456) / 0.224, (30 / 255 - 0.406) / 0.225];
    for (const i of [0, 1, 2, 3 * 1000, 3 * 1000 + 2]) assert.ok(Math.abs(x[i] - want[i % 3]) < 1e-5, `${i}: ${x[i]}`);
  });

  it('caffe: BGR order minus the BGR mean pixel [103.939, 116.779, 123.68]', async () => {
    const [x] = await prepareInputs(imagenet('caffe'), solid(224, 224, [10, 20, 30]));
    // B = 30 - 103.939, G = 20 - 116.779, R = 10 - 123.68
    assert.ok(Math.abs(x[0] - (30 - 103.939)) < 1e-4);
    assert.ok(Math.abs(x[1] - (20 - 116.779)) < 1e-4);
    assert.ok(Math.abs(x[2] - (10 - 123.68)) < 1e-4);
  });

  it('other sizes: shorter side to 256 then the centre 224 crop; ten crops on request', async () => {
    const [x] = await prepareInputs(imagenet('torchvision'), solid(300, 250, [0, 0, 0]));
    assert.equal(x.length, 224 * 224 * 3);
    assert.ok(Math.abs(x[0] - -0.485 / 0.229) < 1e-3); // solid black stays black after resampling
    const ten = await prepareInputs(imagenet('caffe'), solid(300, 250, [0, 0, 0]), true);
    assert.equal(ten.length, 10);
    assert.ok(Math.abs(ten[9][0] - -103.939) < 1e-3);
  });
});
