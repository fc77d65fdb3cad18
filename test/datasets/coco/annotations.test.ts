/**
 * coco-annotations: the real coco-tiny instances file (16 images, 197 annotations, 80
 * categories with COCO's gapped ids, crowd RLE regions), the xywh -> xyxy conversion, the
 * indexes, field errors, and image paths that must not escape the image root.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadCocoInstances, parseCocoInstances, resolveCocoImagePath } from '../../../datasets/coco/annotations.ts';
import { SHARED_DATA } from '../../helpers/cli.ts';
import { requireShared } from '../../helpers/shared.ts';

const TINY = path.join(SHARED_DATA, 'coco-tiny', 'instances_train2017_small.json');

/** A minimal valid file; tests break one field at a time. */
function minimal(): Record<string, unknown[]> {
  return {
    images: [{ id: 7, width: 640, height: 480, file_name: 'a.jpg' }],
    categories: [{ id: 90, name: 'toothbrush', supercategory: 'indoor' }],
    annotations: [{ id: 1, image_id: 7, category_id: 90, bbox: [10.5, 20.25, 30, 40], area: 900, iscrowd: 0, segmentation: [[10.5, 20.25, 40.5, 20.25, 40.5, 60.25]] }],
  };
}

describe('datasets/coco/annotations', () => {
  it('reads coco-tiny: 16 images, 197 annotations, 80 categories with gapped ids', function () {
    requireShared(this, TINY);
    const d = loadCocoInstances(TINY);
    assert.equal(d.images.length, 16);
    assert.equal(d.annotations.length, 197);
    assert.equal(d.categories.length, 80);
    const ids = d.categories.map((c) => c.id);
    assert.equal(Math.max(...ids), 90); // COCO ids run 1..90 with 10 gaps (12, 26, 29, ...)
    assert.ok(!ids.includes(12) && !ids.includes(26));
    assert.equal(d.categoryById.get(1)?.name, 'person');
    // indexes: every annotation appears once under its image and once under its category
    assert.equal([...d.annotationsByImage.values()].reduce((n, a) => n + a.length, 0), 197);
    assert.equal([...d.annotationsByCategory.values()].reduce((n, a) => n + a.length, 0), 197);
    assert.equal(d.annotationsByImage.size, 16);
    // the first annotation: bbox [380.74, 112.85, 40.62, 248.82] -> xyxy [380.74, 112.85, 380.74 + 40.62, 112.85 + 248.82]
    const a = d.annotations[0];
    assert.deepEqual(a.xywh, [380.74, 112.85, 40.62, 248.82]);
    assert.deepEqual(a.box, [380.74, 112.85, 380.74 + 40.62, 112.85 + 248.82]);
    assert.ok(Math.abs(a.box[2] - 421.36) < 1e-9 && Math.abs(a.box[3] - 361.67) < 1e-9);
    assert.equal(a.imageId, 554625);
    assert.equal(a.categoryId, 72);
    assert.equal(a.area, 7821.531700000001);
    assert.ok(Array.isArray(a.segmentation)); // polygons kept as given
    // crowd regions keep their RLE segmentation and their large ids
    const crowd = d.annotations.filter((x) => x.iscrowd);
    assert.ok(crowd.length > 0);
    const rle = crowd.find((x) => x.id === 900100184613);
    assert.ok(rle && typeof rle.segmentation === 'object' && 'counts' in (rle.segmentation as object));
    assert.ok(d.annotationsByImage.get(rle.imageId)!.includes(rle));
  });

  it('keeps non-contiguous ids, file order and segmentation exactly', () => {
    const d = parseCocoInstances(minimal(), 'gt.json');
    assert.deepEqual(d.images[0], { id: 7, fileName: 'a.jpg', width: 640, height: 480 });
    assert.deepEqual(d.categories[0], { id: 90, name: 'toothbrush', supercategory: 'indoor' });
    assert.deepEqual(d.annotations[0].box, [10.5, 20.25, 40.5, 60.25]);
    assert.deepEqual(d.annotations[0].segmentation, [[10.5, 20.25, 40.5, 20.25, 40.5, 60.25]]);
    assert.equal(d.annotations[0].iscrowd, false);
    assert.deepEqual(d.annotationsByCategory.get(90), [d.annotations[0]]);
  });

  const BAD: Array<[string, (f: Record<string, unknown[]>) => void, RegExp]> = [
    ['images missing', (f) => delete (f as Record<string, unknown>).images, /^gt\.json: images: expected an array, got nothing \(missing field\)$/],
    ['annotation bbox of 3 numbers', (f) => ((f.annotations[0] as Record<string, unknown>).bbox = [1, 2, 3]), /^gt\.json: annotations\[0\]\.bbox: expected \[x, y, w, h\] \(4 finite numbers\), got \[1,2,3\]$/],
    ['negative width', (f) => ((f.annotations[0] as Record<string, unknown>).bbox = [1, 2, -3, 4]), /annotations\[0\]\.bbox: expected width and height >= 0/],
    ['missing area', (f) => delete (f.annotations[0] as Record<string, unknown>).area, /annotations\[0\]\.area: expected a finite number >= 0, got nothing/],
    ['iscrowd 2', (f) => ((f.annotations[0] as Record<string, unknown>).iscrowd = 2), /annotations\[0\]\.iscrowd: expected 0 or 1, got 2/],
    ['unknown image_id', (f) => ((f.annotations[0] as Record<string, unknown>).image_id = 8), /annotations\[0\]\.image_id: expected the id of an image in images\[\], got 8/],
    ['unknown category_id', (f) => ((f.annotations[0] as Record<string, unknown>).category_id = 1), /annotations\[0\]\.category_id: expected the id of a category in categories\[\], got 1/],
    ['duplicate image id', (f) => f.images.push({ id: 7, width: 1, height: 1, file_name: 'b.jpg' }), /images\[1\]\.id: expected a unique image id, got 7 a second time/],
    ['string id', (f) => ((f.categories[0] as Record<string, unknown>).id = '90'), /categories\[0\]\.id: expected an integer id, got "90"/],
  ];
  for (const [what, breakIt, message] of BAD) {
    it(`rejects ${what} naming file, record and field`, () => {
      const f = minimal();
      breakIt(f);
      assert.throws(() => parseCocoInstances(f, 'gt.json'), (e: Error) => e.name === 'UserError' && message.test(e.message));
    });
  }

  it('resolves image paths under the root and refuses escapes', () => {
    const d = parseCocoInstances(minimal(), 'gt.json');
    const root = path.resolve('/data/coco/val2017');
    assert.equal(resolveCocoImagePath(d, d.images[0], root), path.join(root, 'a.jpg'));
    for (const name of ['../secret.jpg', 'sub/../../x.jpg', '/etc/passwd', '..\\x.jpg', 'C:\\x.jpg', '']) {
      const image = { ...d.images[0], fileName: name };
      d.images[0] = image;
      assert.throws(() => resolveCocoImagePath(d, image, root), /gt\.json: images\[0\]\.file_name: expected a relative path inside/, name);
    }
  });
});
