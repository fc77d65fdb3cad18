/**
 * COCO results files: exact round trips through the writer and reader, the fast byte scan
 * agreeing with the full JSON path, value checks, and the writer never leaving half a file.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseCocoInstances } from '../../../datasets/coco/annotations.ts';
import { checkDetectionsAgainstGt, detectionAt, detectionsFromList, detectionsFromXywh, loadCocoResults, parseCocoResults, writeCocoResults } from '../../../datasets/coco/results.ts';
import { scanCocoResults } from '../../../datasets/coco/results-scan.ts';
import { tmpDir } from '../../helpers/tmp.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('datasets/coco/results', () => {
  let tmp = '';
  before(() => {
    tmp = tmpDir('resdet-coco-results-');
  });

  it('write then read gives back every double exactly, and xyxy boxes x2 = x + w', () => {
    // awkward values: float32 printed as double, 17 significant digits, tiny and huge exponents
    const xywh = Float64Array.of(258.1566162109375, 0.1 + 0.2, 7.563154697418213, 1e-7, 12, 34.5, 1e21, 3.4028234663852886e38);
    const d = detectionsFromXywh(Float64Array.of(1, 581929), Float64Array.of(90, 1), Float64Array.of(0.47324278950691223, 5e-324), xywh);
    const file = path.join(tmp, 'dets.json');
    writeCocoResults(file, d);
    const back = loadCocoResults(file);
    assert.deepEqual(back, d);
    assert.deepEqual(detectionAt(back, 0).box, [258.1566162109375, 0.1 + 0.2, 258.1566162109375 + 7.563154697418213, 0.1 + 0.2 + 1e-7]);
  });

  it('the fast scan and the full JSON path agree (extra keys, BOM, whitespace)', () => {
    const text = '\ufeff[ {"id": 3, "image_id": 1, "segmentation": {"counts": "a\\"b", "size": [1, 2]}, "category_id": 2,\n "bbox": [1.5, 2, 3e1, 4.25E-1], "score": 0.9, "extra": [true, false, null]} ]';
    const fast = scanCocoResults(enc(text));
    assert.ok(fast, 'the scan handles this file');
    // an escaped key forces the slow path: same numbers
    const slow = parseCocoResults(enc(text.replace('"score"', '"sc\\u006fre"')), 'x.json');
    assert.deepEqual([...fast.xywh], [1.5, 2, 30, 0.425]);
    assert.deepEqual([...slow.xywh], [...fast.xywh]);
    assert.deepEqual([...slow.score], [0.9]);
    assert.equal(scanCocoResults(enc('[{"image_id": 1}]')), null); // missing fields: slow path reports them
  });

  it('the scan reads numbers exactly as Number() does (float32 as double, 17 digits, exponents)', () => {
    // 20,000 values of the kinds detectors write; 17-significant-digit ones take the
    // error-free division path, anything it cannot decide goes through Number().
    let seed = 99;
    const r = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const vals: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const k = i % 5;
      if (k === 0) vals.push(String(Math.fround(r() * 10 ** Math.floor(r() * 8 - 3))));
      else if (k === 1) vals.push(String(r() * 10 ** Math.floor(r() * 10 - 5)));
      else if (k === 2) vals.push(`${1 + Math.floor(r() * 9)}${String(Math.floor(r() * 1e8)).padStart(8, '0')}.${String(Math.floor(r() * 1e8)).padStart(8, '0')}`);
      else if (k === 3) vals.push(`-${Math.fround(r())}`);
      else vals.push((r() * 1000).toPrecision(17));
    }
    const recs = [];
    for (let i = 0; i < vals.length; i += 5) recs.push(`{"image_id":1,"category_id":2,"bbox":[${vals.slice(i, i + 4).join(',')}],"score":${vals[i + 4]}}`);
    const d = scanCocoResults(enc(`[${recs.join(',')}]`));
    assert.ok(d);
    const got = vals.map((_, i) => (i % 5 < 4 ? d.xywh[4 * Math.floor(i / 5) + (i % 5)] : d.score[Math.floor(i / 5)]));
    const bad = vals.filter((v, i) => !Object.is(got[i], Number(v)));
    assert.deepEqual(bad, []);
  });

  it('builds from xyxy records (w = x2 - x1) and keeps the given xyxy', () => {
    const d = detectionsFromList([{ imageId: 4, categoryId: 2, box: [10, 20, 40.5, 60], score: 0.5 }]);
    assert.deepEqual([...d.xywh], [10, 20, 30.5, 40]);
    assert.deepEqual([...d.box], [10, 20, 40.5, 60]);
  });

  it('an empty list is valid', () => {
    assert.equal(parseCocoResults(enc('[]'), 'e.json').count, 0);
  });

  it('rejects a top level that is not a list, and a short bbox', () => {
    assert.throws(() => parseCocoResults(enc('{"a": 1}'), 'r.json'), /^UserError: r\.json: expected a JSON list of detections/);
    assert.throws(() => parseCocoResults(enc('[{"image_id": 1, "category_id": 1, "bbox": [1, 2, 3], "score": 1}]'), 'r.json'),
      /^UserError: r\.json: detections\[0\]\.bbox: expected \[x, y, w, h\] \(4 numbers\), got \[1,2,3\]$/);
    assert.throws(() => parseCocoResults(enc('[{"image_id": 1.5, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 1}]'), 'r.json'),
      /detections\[0\]\.image_id: expected an integer id, got 1\.5/);
  });

  it('checks ids against the ground truth', () => {
    const gt = parseCocoInstances({ images: [{ id: 1, width: 9, height: 9, file_name: 'a.jpg' }], categories: [{ id: 3, name: 'c' }], annotations: [] }, 'gt.json');
    const d = detectionsFromList([{ imageId: 1, categoryId: 3, box: [0, 0, 1, 1], score: 1 }, { imageId: 1, categoryId: 4, box: [0, 0, 1, 1], score: 1 }]);
    assert.throws(() => checkDetectionsAgainstGt(d, gt, 'd.json'), /^UserError: d\.json: detections\[1\]\.category_id: expected the id of a category in gt\.json, got 4$/);
  });

  it('the writer leaves the old file untouched and no temp file on bad input', () => {
    const file = path.join(tmp, 'keep.json');
    fs.writeFileSync(file, 'old');
    const bad = detectionsFromXywh(Float64Array.of(1), Float64Array.of(1), Float64Array.of(NaN), Float64Array.of(0, 0, 1, 1));
    assert.throws(() => writeCocoResults(file, bad), /detections\[0\]\.score: expected a finite number, got NaN/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.includes('keep')), ['keep.json']);
  });
});
