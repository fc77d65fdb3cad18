import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { loadCocoInstances } from '../../../datasets/coco/annotations.ts';
import { isHeldOut, makeShapes, shapesImage } from '../../../datasets/shapes/index.ts';
import { loadVocDataset } from '../../../datasets/voc/index.ts';

/** Every file under `dir` with the sha256 of its bytes, sorted by path. */
function digest(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(`${path.relative(dir, p)} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`);
    }
  };
  walk(dir);
  return out;
}

describe('datasets/shapes make-shapes', function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-shapes-'));
  const opts = { images: 10, seed: 7, width: 96, height: 64, portrait: 0.3, classes: ['circle', 'square', 'triangle'] as const };
  const a = path.join(tmp, 'a');
  before(async () => {
    await makeShapes({ ...opts, classes: [...opts.classes], out: a });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes the same bytes for the same seed, other bytes for another seed', async () => {
    const b = path.join(tmp, 'b');
    const c = path.join(tmp, 'c');
    await makeShapes({ ...opts, classes: [...opts.classes], out: b });
    await makeShapes({ ...opts, classes: [...opts.classes], out: c, seed: 8 });
    const da = digest(a);
    // 10 JPEGs + 10 XMLs + 3 image sets + classes.txt + 2 COCO files
    assert.equal(da.length, 26);
    assert.deepEqual(digest(b), da);
    assert.notDeepEqual(digest(c), da);
  });

  it('holds out every 5th image (fraction 0.2) as val and test', () => {
    // floor((i+1)*0.2) > floor(i*0.2) exactly for i = 4, 9
    assert.deepEqual([...Array(10).keys()].filter((i) => isHeldOut(i, 0.2)), [4, 9]);
    const sets = path.join(a, 'VOC2007/ImageSets/Main');
    assert.equal(fs.readFileSync(path.join(sets, 'val.txt'), 'utf8'), '000005\n000010\n');
    assert.equal(fs.readFileSync(path.join(sets, 'test.txt'), 'utf8'), '000005\n000010\n');
    assert.equal(fs.readFileSync(path.join(sets, 'train.txt'), 'utf8').split('\n').filter(Boolean).length, 8);
    assert.equal(fs.readFileSync(path.join(a, 'VOC2007/classes.txt'), 'utf8'), 'circle\nsquare\ntriangle\n');
  });

  it('the VOC loader and the COCO loader give back the scene boxes exactly', () => {
    const classes = ['circle', 'square', 'triangle'];
    // without an image set the VOC reader takes every Annotations/*.xml, sorted
    const voc = loadVocDataset({ root: path.join(a, 'VOC2007'), classes });
    const trainJson = loadCocoInstances(path.join(a, 'annotations/instances_train.json'));
    const valJson = loadCocoInstances(path.join(a, 'annotations/instances_val.json'));
    assert.equal(voc.images.length, 10);
    assert.equal(trainJson.images.length + valJson.images.length, 10);
    assert.deepEqual(trainJson.categories.map((c) => [c.id, c.name]), [[1, 'circle'], [2, 'square'], [3, 'triangle']]);
    let objects = 0;
    voc.images.forEach((im, i) => {
      const { scene } = shapesImage(7, i, { ...opts, classes: [...opts.classes] });
      assert.equal(im.width, scene.width);
      assert.equal(im.height, scene.height);
      assert.ok(fs.existsSync(im.imagePath));
      // VOC: x1 = xmin - 1, x2 = xmax gives back the whole-pixel scene box.
      assert.deepEqual(im.objects.map((o) => [o.name, ...o.box]), scene.shapes.map((s) => [s.cls, ...s.box]));
      const coco = isHeldOut(i, 0.2) ? valJson : trainJson;
      const anns = coco.annotationsByImage.get(i + 1)!;
      // COCO: x2 = x + w, with integer boxes exact.
      assert.deepEqual(anns.map((an) => [classes[an.categoryId - 1], ...an.box]), scene.shapes.map((s) => [s.cls, ...s.box]));
      for (const s of scene.shapes) {
        assert.ok(s.box[0] >= 0 && s.box[1] >= 0 && s.box[2] <= scene.width && s.box[3] <= scene.height && s.box[2] > s.box[0] && s.box[3] > s.box[1]);
      }
      objects += anns.length;
    });
    assert.ok(objects >= 10, `expected at least one object per image, got ${objects}`);
  });

  it('draws each object inside its box (the object colour covers a good part of the box)', async () => {
    const { scene } = shapesImage(7, 0, { ...opts, classes: [...opts.classes] });
    const { data, info } = await sharp(path.join(a, 'VOC2007/JPEGImages/000001.jpg')).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [scene.width, scene.height, 3]);
    const last = scene.shapes[scene.shapes.length - 1]; // drawn on top: nothing hides it
    const [x1, y1, x2, y2] = last.box;
    let near = 0;
    for (let y = y1; y < y2; y++) {
      for (let x = x1; x < x2; x++) {
        const i = (y * info.width + x) * 3;
        if (Math.hypot(data[i] - last.color[0], data[i + 1] - last.color[1], data[i + 2] - last.color[2]) < 40) near++;
      }
    }
    // a triangle fills about 40% of its box, a circle pi/4, a square 100%; JPEG and grain blur edges
    assert.ok(near / ((x2 - x1) * (y2 - y1)) > 0.25, `object colour covers ${near} of ${(x2 - x1) * (y2 - y1)} pixels`);
  });

  it('refuses a non-empty output folder without --force, leaving it as it was', async () => {
    await assert.rejects(makeShapes({ ...opts, classes: [...opts.classes], out: a }), /expected an empty or absent folder/);
    assert.equal(digest(a).length, 26);
  });
});
