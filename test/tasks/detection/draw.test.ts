/**
 * Pictures of detections (tasks/detection/draw.ts, font.ts): the bitmap font's metrics, label
 * placement (inside the canvas, never overlapping, beside its box where there is room), the
 * layout (upscaling, legend, header) and the written picture.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import sharp from 'sharp';
import { classColor, detectionsSvg, drawDetections, layoutDetections, leaderLine, PALETTE, placeDetections, placeLabels, textColorOn, type Rect } from '../../../tasks/detection/draw.ts';
import { GLYPH, textPath, textSize } from '../../../tasks/detection/font.ts';
import type { ImageDetections } from '../../../tasks/detection/inference.ts';
import { Rng } from '../../../src/random.ts';
import { tmpDir } from '../../helpers/tmp.ts';

type Box = [number, number, number, number];

/** Area covered by a textPath: the sum of its `h<w>v<h>` rectangles. */
function pathArea(d: string): number {
  return [...d.matchAll(/h([\d.]+)v([\d.]+)/g)].reduce((a, m) => a + Number(m[1]) * Number(m[2]), 0);
}

function dets(boxes: number[], scores: number[], labels: number[]): ImageDetections {
  return { boxes: Float32Array.from(boxes), scores: Float32Array.from(scores), labels: Int32Array.from(labels) };
}

function inside(r: Rect, canvas: { width: number; height: number }): boolean {
  return r.x >= 0 && r.y >= 0 && r.x + r.width <= canvas.width && r.y + r.height <= canvas.height;
}

function disjoint(a: Rect, b: Rect): boolean {
  return a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
}

describe('tasks/detection: font', () => {
  it('every glyph is a 10 x 17 cell; sizes are exact multiples of it', () => {
    assert.deepEqual(GLYPH, { width: 10, height: 17 });
    assert.deepEqual(textSize('circle 0.93', 1), { width: 110, height: 17 });
    assert.deepEqual(textSize('ab', 2), { width: 40, height: 34 });
  });

  it('draws whole pixels: a space draws nothing, scale 2 covers 4x the area, unknown characters draw as "?"', () => {
    assert.equal(textPath(' ', 0, 0, 1), '');
    const a = pathArea(textPath('A', 0, 0, 1));
    assert.ok(a > 20 && a < 10 * 17, `${a}`);
    assert.equal(pathArea(textPath('A', 5, 7, 2)), 4 * a);
    assert.equal(textPath('é', 0, 0, 1), textPath('?', 0, 0, 1));
    // a second character starts one cell (10 px) to the right
    assert.equal(pathArea(textPath('AA', 0, 0, 1)), 2 * a);
    assert.match(textPath('!', 20, 0, 1), /^M2\d /);
  });
});

describe('tasks/detection: label placement', () => {
  const canvas = { width: 200, height: 100 };
  const size = { width: 60, height: 20 };

  it('above the box where there is room, else inside its top (a box at the top edge), clamped at the right edge', () => {
    const [above, top, right] = placeLabels([[10, 50, 80, 90], [100, 0, 190, 60], [180, 60, 200, 100]], [size, size, size], canvas);
    assert.deepEqual(above, { x: 10, y: 30, width: 60, height: 20 });
    assert.deepEqual(top, { x: 100, y: 0, width: 60, height: 20 });
    // right edge: x = 200 - 60 = 140 (the box's left 180 would cut it), above the box (y 60 - 20)
    assert.deepEqual(right, { x: 140, y: 40, width: 60, height: 20 });
  });

  it('two labels for the same box do not overlap: the second goes inside the top edge', () => {
    const [a, b] = placeLabels([[20, 40, 120, 90], [20, 40, 120, 90]], [size, size], canvas);
    assert.deepEqual([a, b], [{ x: 20, y: 20, width: 60, height: 20 }, { x: 20, y: 40, width: 60, height: 20 }]);
  });

  it('a label larger than the canvas, or with no free place left, is left out', () => {
    assert.deepEqual(placeLabels([[0, 0, 10, 10]], [{ width: 201, height: 10 }], canvas), [undefined]);
    // 200x100 holds exactly 10 labels of 40x50; the 11th has nowhere to go
    const many = placeLabels(Array.from({ length: 11 }, (): Box => [0, 0, 200, 100]), Array.from({ length: 11 }, () => ({ width: 40, height: 50 })), canvas);
    assert.equal(many.filter(Boolean).length, 10);
    assert.equal(many[10], undefined);
  });

  it('a label away from its box gets a leader line to the nearest point of the box; one touching it gets none', () => {
    const box: Box = [100, 50, 150, 90];
    assert.equal(leaderLine({ x: 100, y: 30, width: 60, height: 20 }, box), undefined); // just above
    assert.equal(leaderLine({ x: 110, y: 60, width: 30, height: 20 }, box), undefined); // inside
    // left of the box and above it: from the label's bottom-right corner (40, 20) to the box's top-left corner
    assert.deepEqual(leaderLine({ x: 0, y: 0, width: 40, height: 20 }, box), [40, 20, 100, 50]);
    // straight below: x overlaps, so the segment is vertical at the overlap's left end
    assert.deepEqual(leaderLine({ x: 120, y: 95, width: 60, height: 20 }, box), [120, 95, 120, 90]);
  });

  it('seeded crowds: every placed label lies inside the canvas and no two overlap', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const c = { width: 320 + Math.floor(rng.next() * 400), height: 240 + Math.floor(rng.next() * 300) };
      const n = 1 + Math.floor(rng.next() * 40);
      const boxes = Array.from({ length: n }, (): Box => {
        const x1 = rng.next() * c.width;
        const y1 = rng.next() * c.height;
        return [x1, y1, Math.min(c.width, x1 + rng.next() * 200), Math.min(c.height, y1 + rng.next() * 200)];
      });
      const sizes = boxes.map(() => ({ width: 60 + Math.floor(rng.next() * 80), height: 23 }));
      const placed = placeLabels(boxes, sizes, c).filter((r): r is Rect => r !== undefined);
      assert.ok(placed.length >= Math.min(n, 5), `trial ${trial}: ${placed.length} of ${n} placed`);
      for (const [i, r] of placed.entries()) {
        assert.ok(inside(r, c), `trial ${trial}: ${JSON.stringify(r)} outside ${JSON.stringify(c)}`);
        for (const q of placed.slice(i + 1)) assert.ok(disjoint(r, q), `trial ${trial}: ${JSON.stringify(r)} overlaps ${JSON.stringify(q)}`);
      }
    }
  });

  it('placeDetections: boxes scaled and clamped, the most confident labelled first (ties: the earlier), results in input order', () => {
    // three boxes claiming the same label place on a 100x60 canvas at scale 2; detection 2 pokes out
    const { order, placed } = placeDetections(
      [[10, 10, 20, 20], [10, 10, 20, 20], [10, 10, 80, 40]], [0.5, 0.9, 0.5], [{ width: 30, height: 10 }, { width: 30, height: 10 }, { width: 30, height: 10 }], 2, { width: 100, height: 60 },
    );
    assert.deepEqual(order, [1, 0, 2]);
    assert.deepEqual(placed.map((p) => p.box), [[20, 20, 40, 40], [20, 20, 40, 40], [20, 20, 100, 60]]);
    // detection 1 gets the place above the shared corner; 0 inside the top edge, 2 below that
    assert.deepEqual(placed[1].label, { x: 20, y: 10, width: 30, height: 10 });
    assert.deepEqual(placed[0].label, { x: 20, y: 20, width: 30, height: 10 });
    assert.ok(placed[2].label && disjoint(placed[2].label, placed[0].label!) && disjoint(placed[2].label, placed[1].label!));
    assert.equal(classColor(13), PALETTE[1]);
  });
});

describe('tasks/detection: detections picture', () => {
  it('upscales a 128x96 image to a 320 px shorter side, scales the boxes, and lists the classes drawn in the legend', () => {
    const l = layoutDetections({ width: 128, height: 96 }, dets([12, 24, 60, 72, 0, 0, 30, 30, 70, 10, 120, 50], [0.5, 0.9, 0.7], [2, 0, 2]), ['circle', 'square', 'triangle'], { title: 'demo' });
    // scale 320 / 96 = 10/3: 128 -> 427 (rounded), 96 -> 320
    assert.equal(l.scale, 320 / 96);
    assert.deepEqual([l.width, l.imageHeight, l.fontScale], [427, 320, 1]);
    assert.equal(l.height, l.headerHeight + 320);
    // drawn lowest score first; [12, 24, 60, 72] * 10/3 = [40, 80, 200, 240]
    assert.deepEqual(l.detections.map((d) => d.label?.text), ['triangle 0.50', 'triangle 0.70', 'circle 0.90']);
    assert.deepEqual(l.detections[0].box.map((v) => Math.round(v * 1000) / 1000), [40, 80, 200, 240]);
    assert.deepEqual(l.detections.map((d) => d.color), [PALETTE[2], PALETTE[2], PALETTE[0]]);
    assert.deepEqual(l.legend.map((e) => [e.text, e.color]), [['circle (1)', PALETTE[0]], ['triangle (2)', PALETTE[2]]]);
    assert.equal(l.title?.text, 'demo');
    // the box at the top edge keeps its label on the picture, inside the box
    assert.deepEqual([l.detections[2].label?.x, l.detections[2].label?.y], [0, 0]);
    for (const d of l.detections) assert.ok(d.label && inside(d.label, { width: l.width, height: l.imageHeight }));
  });

  it('no detections says so; a large image is not upscaled and gets larger text', () => {
    const l = layoutDetections({ width: 1600, height: 1200 }, dets([], [], []), ['raccoon']);
    assert.deepEqual([l.scale, l.width, l.imageHeight, l.fontScale], [1, 1600, 1200, 2]);
    assert.deepEqual(l.legend.map((e) => e.text), ['no detections']);
    assert.equal(l.title, undefined);
  });

  it('the overlay is valid SVG whatever the class names (text is drawn as paths), with a box per detection', () => {
    const l = layoutDetections({ width: 100, height: 80 }, dets([10, 20, 50, 60], [0.875], [0]), ['a<b&"c'], { title: '</svg><x>' });
    const svg = detectionsSvg(l);
    assert.equal(XMLValidator.validate(svg), true);
    assert.ok(!svg.includes('<text') && !svg.includes('<b'));
    assert.equal(l.detections[0].label?.text, 'a<b&"c 0.88');
    assert.equal([...svg.matchAll(new RegExp(`stroke="${PALETTE[0]}"`, 'g'))].length, 1);
  });

  it('label text is black on light colours and white on dark ones', () => {
    assert.equal(textColorOn('#ffe119'), '#000000');
    assert.equal(textColorOn('#4363d8'), '#ffffff');
  });

  it('writes the picture: header above the upscaled image', async function () {
    const dir = tmpDir('resdet-draw-');
    const image = path.join(dir, 'in.png');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } }).png().toFile(image);
    const out = path.join(dir, 'out.png');
    const layout = await drawDetections(image, { width: 64, height: 48 }, dets([8, 8, 40, 40], [0.9], [1]), ['circle', 'square'], out);
    const meta = await sharp(out).metadata();
    // 48 -> 320: scale 20/3, 64 -> 427
    assert.deepEqual([meta.width, meta.height, meta.format], [427, layout.headerHeight + 320, 'png']);
    assert.equal(layout.title?.text, 'in.png');
    // a pixel of the box's stroke at its left edge, mid-height: the class colour (#3cb44b)
    const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
    const x = Math.round(8 * layout.scale);
    const y = layout.headerHeight + Math.round(24 * layout.scale);
    assert.deepEqual([...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)], [0x3c, 0xb4, 0x4b]);
  });
});
