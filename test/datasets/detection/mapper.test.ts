import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import {
  decodeRgb, mapRecord, normalizePixels, PIXEL_NORMS, trainingObjects, type DetectionRecord,
} from '../../../datasets/detection/index.ts';

/** A record over `file` with the given boxes (labels 0, 1, ...). */
function record(file: string, width: number, height: number, boxes: number[], ignore: number[] = []): DetectionRecord {
  const n = boxes.length / 4;
  return {
    id: 'img', imagePath: file, annotationFile: 'ann.xml', width, height,
    boxes: Float32Array.from(boxes), labels: Int32Array.from({ length: n }, (_, i) => i),
    ignore: Uint8Array.from({ length: n }, (_, i) => ignore[i] ?? 0),
  };
}

describe('datasets/detection mapper', function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-mapper-'));
  /** 96x64: left half pure red, right half pure blue. */
  const split = path.join(tmp, 'split.png');
  before(async () => {
    const px = new Uint8Array(96 * 64 * 3);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 96; x++) px.set(x < 48 ? [255, 0, 0] : [0, 0, 255], (y * 96 + x) * 3);
    await sharp(px, { raw: { width: 96, height: 64, channels: 3 } }).png().toFile(split);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('normalises torchvision RGB and caffe BGR', () => {
    const out = new Float32Array(3);
    normalizePixels(Uint8Array.from([255, 0, 51]), PIXEL_NORMS.torchvision, out);
    // R (1 - 0.485) / 0.229 = 2.2489, G (0 - 0.456) / 0.224 = -2.0357, B (0.2 - 0.406) / 0.225 = -0.9156
    assert.deepEqual([...out].map((v) => v.toFixed(4)), ['2.2489', '-2.0357', '-0.9156']);
    normalizePixels(Uint8Array.from([255, 0, 51]), PIXEL_NORMS.caffe, out);
    // BGR: 51 - 102.9801, 0 - 115.9465, 255 - 122.7717
    assert.deepEqual([...out].map((v) => v.toFixed(4)), ['-51.9801', '-115.9465', '132.2283']);
  });

  it('maps a record: resized pixels, flipped pixels and boxes agree', async () => {
    const r = record(split, 96, 64, [10, 4, 50, 30]);
    const opts = { minSize: 32, maxSize: 1000, norm: PIXEL_NORMS.torchvision };
    const plain = await mapRecord(r, opts, false);
    const flipped = await mapRecord(r, opts, true);
    assert.deepEqual([plain.width, plain.height, plain.scaleX, plain.scaleY], [48, 32, 0.5, 0.5]);
    assert.deepEqual([...plain.boxes], [5, 2, 25, 15]);
    assert.deepEqual([...flipped.boxes], [23, 2, 43, 15]);
    const red = (1 - 0.485) / 0.229;
    const blueR = (0 - 0.485) / 0.229;
    // top-left pixel: red unflipped, blue (R channel at its minimum) once mirrored
    assert.ok(Math.abs(plain.pixels[0] - red) < 1e-5, `${plain.pixels[0]}`);
    assert.ok(Math.abs(flipped.pixels[0] - blueR) < 1e-5, `${flipped.pixels[0]}`);
    assert.equal(plain.pixels.length, 48 * 32 * 3);
  });

  it('leaves out difficult / crowd objects, clips to the image and drops degenerate boxes (or reports them)', () => {
    // box 0 pokes out of the 96x64 image: clipped to [0, 2, 96, 64]; box 1 difficult; box 2 zero width
    const r = record(split, 96, 64, [-5, 2, 100, 70, 1, 1, 20, 20, 30, 10, 30, 40], [0, 1, 0]);
    const o = trainingObjects(r);
    assert.deepEqual([...o.boxes], [0, 2, 96, 64]);
    assert.deepEqual([...o.labels], [0]);
    assert.equal(o.dropped, 1);
    assert.throws(() => trainingObjects(r, 'error'), /^UserError: ann\.xml: image\[img\]\.object\[2\]\.box: expected a box at least 1 pixel wide and high inside the 96x64 image, got \[30,10,30,40\]$/);
    // no objects at all is a valid (background-only) sample
    assert.deepEqual(trainingObjects(record(split, 96, 64, [])), { boxes: new Float32Array(0), labels: new Int32Array(0), dropped: 0 });
  });

  it('a record with autoOrient is decoded with its EXIF orientation applied, at the oriented size', async () => {
    // the same JPEG data with and without orientation 6 (shown rotated 90 degrees clockwise)
    const plain = path.join(tmp, 'plain.jpg');
    const exif = path.join(tmp, 'exif.jpg');
    await sharp(split).jpeg({ quality: 95 }).toFile(plain);
    await sharp(split).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(exif);
    const upright = await sharp(plain).rotate(90).raw().toBuffer({ resolveWithObject: true });
    const got = await decodeRgb(exif, undefined, true);
    assert.deepEqual([got.width, got.height], [64, 96]);
    assert.deepEqual([upright.info.width, upright.info.height], [64, 96]);
    assert.ok(Buffer.from(got.rgb).equals(upright.data), 'EXIF-oriented decode differs from the rotated pixels');
    // without autoOrient the stored pixels, as dataset annotations give them
    assert.deepEqual([(await decodeRgb(exif)).width, (await decodeRgb(exif)).height], [96, 64]);
    const opts = { minSize: 32, maxSize: 100, norm: PIXEL_NORMS.caffe };
    const m = await mapRecord({ ...record(exif, 64, 96, [0, 0, 64, 48]), autoOrient: true }, opts, false);
    assert.deepEqual([m.width, m.height], [32, 48]);
    // the top half of the upright image is the stored image's left half: red (caffe: BGR minus means)
    assert.ok(m.pixels[2] > 100 && m.pixels[0] < -50, `top-left pixel ${[...m.pixels.subarray(0, 3)]}`);
    await assert.rejects(mapRecord(record(exif, 64, 96, []), opts, false), { message: `ann.xml: size: expected the size of ${exif} (96x64), got 64x96` });
  });

  it('a corrupt, truncated or missing image is an error naming the file', async () => {
    const garbage = path.join(tmp, 'garbage.jpg');
    fs.writeFileSync(garbage, 'this is not an image');
    await assert.rejects(decodeRgb(garbage), (e: Error) => e.name === 'UserError' && e.message.startsWith(`${garbage}: expected a readable image`));
    const jpeg = await sharp(split).jpeg().toBuffer();
    const truncated = path.join(tmp, 'truncated.jpg');
    fs.writeFileSync(truncated, jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    await assert.rejects(decodeRgb(truncated), (e: Error) => e.name === 'UserError' && e.message.startsWith(`${truncated}: expected a readable image`));
    const missing = path.join(tmp, 'missing.jpg');
    await assert.rejects(decodeRgb(missing), { name: 'UserError', message: `${missing}: expected a readable image (JPEG, PNG, WebP...), could not decode it: file not found` });
    // the annotation's size disagrees with the file: names the annotation file
    await assert.rejects(mapRecord(record(split, 100, 64, []), { minSize: 32, maxSize: 100, norm: PIXEL_NORMS.caffe }, false), { message: `ann.xml: size: expected the size of ${split} (96x64), got 100x64` });
  });
});
