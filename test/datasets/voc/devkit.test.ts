import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { VOC_CLASSES } from '../../../datasets/voc/classes.ts';
import { loadVocDataset, readImageSet } from '../../../datasets/voc/devkit.ts';
import { SHARED_DATA } from '../../helpers/cli.ts';
import { requireShared } from '../../helpers/shared.ts';
import { tmpDir } from '../../helpers/tmp.ts';

const DEVKIT = path.join(SHARED_DATA, 'voc-samples/VOCdevkit');
const RACCOON = path.join(SHARED_DATA, 'raccoon');

/** Makes a throw-away VOC-layout folder with the given annotation files and image set. */
function tmpDataset(files: Record<string, string>, imageset: string): string {
  const root = tmpDir('resdet-voc-');
  fs.mkdirSync(path.join(root, 'Annotations'));
  fs.mkdirSync(path.join(root, 'ImageSets/Main'), { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(root, 'Annotations', name), text);
  fs.writeFileSync(path.join(root, 'ImageSets/Main/test.txt'), imageset);
  return root;
}
const XML = '<annotation><filename>a.jpg</filename><size><width>10</width><height>10</height></size></annotation>';

describe('datasets/voc/devkit', () => {
  describe('real VOCdevkit samples', () => {
    before(function () { requireShared(this, DEVKIT); });

    it('reads VOC2007 test: sizes, classes, difficult, boxes as xyxy', () => {
      const ds = loadVocDataset({ root: path.join(DEVKIT, 'VOC2007'), split: 'test' });
      assert.deepEqual(ds.images.map((im) => im.id), ['000001', '000002', '000003', '000004', '000005']);
      const [im1] = ds.images;
      assert.deepEqual([im1.filename, im1.width, im1.height, im1.depth], ['000001.jpg', 353, 500, 3]);
      // dog xmin 48 ymin 240 xmax 195 ymax 371 -> [47, 239, 195, 371]; label 11 = 'dog'.
      assert.deepEqual(im1.objects.map((o) => [o.name, o.label, o.box, o.difficult, o.truncated]), [
        ['dog', 11, [47, 239, 195, 371], false, true],
        ['person', 14, [7, 11, 352, 498], false, true],
      ]);
      assert.equal(im1.imagePath, path.join(DEVKIT, 'VOC2007/JPEGImages/000001.jpg'));
      assert.ok(ds.images.every((im) => fs.existsSync(im.imagePath)));
      // 000005 has 5 chairs, two of them difficult.
      assert.deepEqual(ds.images[4].objects.map((o) => o.difficult), [false, false, true, false, true]);
      assert.equal(ds.images.reduce((n, im) => n + im.objects.length, 0), 2 + 1 + 2 + 7 + 5);
    });

    it('reads VOC2012 trainval (person <part> boxes are not objects)', () => {
      const ds = loadVocDataset({ root: path.join(DEVKIT, 'VOC2012'), split: 'trainval' });
      assert.equal(ds.images.length, 5);
      assert.deepEqual(ds.images[0].objects.map((o) => [o.name, o.box]), [['person', [173, 100, 349, 351]]]);
      assert.equal(ds.images.reduce((n, im) => n + im.objects.length, 0), 1 + 4 + 3 + 1 + 2);
      assert.ok(ds.images.every((im) => fs.existsSync(im.imagePath)));
    });
  });

  describe('raccoon (labelImg VOC-style, one class)', () => {
    before(function () { requireShared(this, RACCOON); });
    const opts = { root: RACCOON, annotationsDir: 'annotations', imagesDir: 'images', classes: ['raccoon'] };

    it('reads all 200 files without an image set; ignores the absolute <path> field', () => {
      const ds = loadVocDataset(opts);
      assert.equal(ds.images.length, 200);
      assert.equal(ds.images.reduce((n, im) => n + im.objects.length, 0), 217);
      // Natural order of the file names; raccoon-1.xml: 650x417, xmin 81 ymin 88 xmax 522 ymax 408.
      assert.deepEqual(ds.images.slice(0, 3).map((im) => im.id), ['raccoon-1', 'raccoon-2', 'raccoon-3']);
      assert.deepEqual([ds.images[0].width, ds.images[0].height, ds.images[0].objects[0].box], [650, 417, [80, 87, 522, 408]]);
      // <path> says /Users/datitran/Desktop/...; the image is found from <filename> under images/.
      assert.ok(ds.images.every((im) => im.imagePath.startsWith(path.join(RACCOON, 'images') + path.sep) && fs.existsSync(im.imagePath)));
    });

    it('with the 20 VOC classes, names the unknown class', () => {
      assert.throws(() => loadVocDataset({ ...opts, classes: VOC_CLASSES }), /raccoon-1\.xml: object\[0\]\.name: expected one of the 20 classes \(aeroplane, .*got "raccoon"/);
      const ds = loadVocDataset({ ...opts, classes: VOC_CLASSES, unknownClasses: 'ignore' });
      assert.deepEqual([...ds.ignored], [['raccoon', 217]]);
    });
  });

  describe('image sets and bad input', () => {
    it('reads ids, skipping blank lines and trailing spaces', () => {
      const root = tmpDataset({}, '000001\n\n000002  \r\n');
      assert.deepEqual(readImageSet(path.join(root, 'ImageSets/Main/test.txt')), ['000001', '000002']);
    });

    it('rejects repeated ids, per-class lines and path-like ids, naming the line', () => {
      const f = (text: string): string => path.join(tmpDataset({}, text), 'ImageSets/Main/test.txt');
      assert.throws(() => readImageSet(f('a\nb\na\n')), /test\.txt: line\[3\]: duplicate image id "a"/);
      assert.throws(() => readImageSet(f('000005 -1\n')), /test\.txt: line\[1\]: expected one image id per line/);
      assert.throws(() => readImageSet(f('../x\n')), /test\.txt: line\[1\]: expected an image id \(a file name without path separators\)/);
    });

    it('an image set naming a missing annotation file names the set, the id and the file', () => {
      const root = tmpDataset({ 'a.xml': XML }, 'a\nmissing\n');
      assert.throws(() => loadVocDataset({ root, split: 'test' }), /test\.txt: image\[missing\]: expected an annotation file .*Annotations\/missing\.xml, not found/);
    });

    it('refuses image file names that leave the images folder', () => {
      for (const name of ['../../etc/passwd', '/etc/passwd', 'C:\\x\\a.jpg', 'a/../../b.jpg']) {
        const root = tmpDataset({ 'a.xml': XML.replace('a.jpg', name) }, 'a\n');
        assert.throws(() => loadVocDataset({ root, split: 'test' }), (e: Error) => e.name === 'UserError'
          && /a\.xml: annotation\.filename: expected a relative path inside .*JPEGImages/.test(e.message) && e.message.includes(JSON.stringify(name)));
      }
    });

    it('a missing image set is a user error', () => {
      assert.throws(() => loadVocDataset({ root: tmpDataset({}, ''), split: 'val' }), /val\.txt: cannot read image set \(ENOENT\)/);
    });
  });
});
