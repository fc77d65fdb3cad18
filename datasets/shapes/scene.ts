/**
 * Synthetic detection scenes: where each coloured shape of an image goes, and its ground-truth
 * box. Pure geometry and random draws (./raster.ts turns a scene into pixels).
 *
 * Every shape is a closed outline: a circle (centre, radius) or a polygon (square, triangle,
 * star: vertices). Its box is the outline's extent rounded outwards to whole pixels and clipped
 * to the image, `[x1, y1, x2, y2]` in resdet's continuous pixel-edge convention
 * (datasets/voc/records.ts), so the same integers go to VOC (`xmin = x1 + 1`, `xmax = x2`) and
 * COCO (`[x1, y1, x2 - x1, y2 - y1]`) and both loaders give back exactly this box.
 */
import type { Rng } from '../../src/random.ts';

/** The shape classes in label order (label `i` is `SHAPE_CLASSES[i]`). */
export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star'] as const;
/** One of SHAPE_CLASSES. */
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

/** An RGB colour, 0..255 per channel. */
export type Rgb = [number, number, number];

/** One shape of a scene. */
export interface Shape {
  cls: ShapeClass;
  color: Rgb;
  /** Circles: centre and radius. */
  circle?: { cx: number; cy: number; r: number };
  /** Polygons: vertices `[x0, y0, x1, y1, ...]`, pixels. */
  polygon?: number[];
  /** `[x1, y1, x2, y2]`, whole pixels, inside the image. */
  box: [number, number, number, number];
  /** Area of the outline in pixels (the COCO `area`). */
  area: number;
}

/** Background textures (./raster.ts). */
export const TEXTURES = ['noise', 'gradient', 'stripes', 'blobs'] as const;
export type Texture = (typeof TEXTURES)[number];

/** The background of a scene: a texture and its two colours and parameters. */
export interface Background {
  texture: Texture;
  colors: [Rgb, Rgb];
  /** gradient / stripes direction, radians */
  angle: number;
  /** stripes period in pixels; blobs cell size */
  period: number;
}

/** One image: its size, background and shapes in drawing order (later ones on top). */
export interface Scene {
  width: number;
  height: number;
  background: Background;
  shapes: Shape[];
}

/** Options of {@link sampleScene}. */
export interface SceneOptions {
  /** classes to draw from; default all of {@link SHAPE_CLASSES} */
  classes?: readonly ShapeClass[];
  /** objects per image, inclusive range; default [1, 4] */
  objects?: [number, number];
  /** object size (circle diameter, square side...) as a fraction of the shorter image side; default [0.15, 0.45] */
  size?: [number, number];
  /** largest IoU a new object may have with an earlier one; default 0.3 (some overlap, none hidden) */
  maxIoU?: number;
}

export const SCENE_DEFAULTS: Required<SceneOptions> = {
  classes: SHAPE_CLASSES,
  objects: [1, 4],
  size: [0.15, 0.45],
  maxIoU: 0.3,
};

/** HSV (h in [0, 1), s, v in [0, 1]) to RGB 0..255. */
export function hsv(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const rgb = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i];
  return rgb.map((c) => Math.round(c * 255)) as Rgb;
}

function colorDistance(a: Rgb, b: Rgb): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Vertices of a regular polygon (or a star with alternating radii), rotated by `angle`. */
function regularPolygon(cx: number, cy: number, radii: number[], n: number, angle: number): number[] {
  const v: number[] = [];
  for (let k = 0; k < n; k++) {
    const a = angle + (2 * Math.PI * k) / n;
    const r = radii[k % radii.length];
    v.push(cx + r * Math.cos(a), cy + r * Math.sin(a));
  }
  return v;
}

/** Shoelace area of a polygon `[x0, y0, ...]`. */
export function polygonArea(v: readonly number[]): number {
  let s = 0;
  const n = v.length / 2;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    s += v[2 * i] * v[2 * j + 1] - v[2 * j] * v[2 * i + 1];
  }
  return Math.abs(s) / 2;
}

/** Rounds an extent outwards to whole pixels and clips it to the image. */
function pixelBox(minX: number, minY: number, maxX: number, maxY: number, w: number, h: number): Shape['box'] {
  return [Math.max(0, Math.floor(minX)), Math.max(0, Math.floor(minY)), Math.min(w, Math.ceil(maxX)), Math.min(h, Math.ceil(maxY))];
}

/** IoU of two xyxy boxes, and the fraction of `a` that `b` covers. */
function overlap(a: Shape['box'], b: Shape['box']): { iou: number; coverA: number } {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const areaA = (a[2] - a[0]) * (a[3] - a[1]);
  const areaB = (b[2] - b[0]) * (b[3] - b[1]);
  return { iou: inter / (areaA + areaB - inter), coverA: inter / areaA };
}

/**
 * Builds one shape of class `cls` with nominal size `size` (diameter / side) centred at (cx, cy).
 * Squares turn by at most 20 degrees so they stay square-looking; triangles and stars turn freely.
 */
function makeShape(rng: Rng, cls: ShapeClass, cx: number, cy: number, size: number, color: Rgb, w: number, h: number): Shape {
  if (cls === 'circle') {
    const r = size / 2;
    return { cls, color, circle: { cx, cy, r }, box: pixelBox(cx - r, cy - r, cx + r, cy + r, w, h), area: Math.PI * r * r };
  }
  let polygon: number[];
  if (cls === 'square') {
    polygon = regularPolygon(cx, cy, [size / Math.SQRT2], 4, Math.PI / 4 + (rng.next() - 0.5) * (Math.PI / 4.5));
  } else if (cls === 'triangle') {
    polygon = regularPolygon(cx, cy, [size / Math.sqrt(3) * 1.1], 3, rng.next() * 2 * Math.PI);
  } else {
    polygon = regularPolygon(cx, cy, [size / 2 * 1.1, size / 2 * 0.45], 10, rng.next() * 2 * Math.PI);
  }
  const xs = polygon.filter((_, i) => i % 2 === 0);
  const ys = polygon.filter((_, i) => i % 2 === 1);
  return {
    cls, color, polygon,
    box: pixelBox(Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys), w, h),
    area: polygonArea(polygon),
  };
}

/** A random background whose colours are muted (saturation <= 0.45) so shapes stand out. */
function sampleBackground(rng: Rng): Background {
  const texture = TEXTURES[rng.int(0, TEXTURES.length)];
  const c0 = hsv(rng.next(), rng.next() * 0.45, 0.2 + rng.next() * 0.65);
  const c1 = hsv(rng.next(), rng.next() * 0.45, 0.2 + rng.next() * 0.65);
  return { texture, colors: [c0, c1], angle: rng.next() * Math.PI, period: 6 + rng.int(0, 18) };
}

/**
 * Draws a random scene of `width` x `height` pixels. Objects are placed fully inside the image;
 * a placement that overlaps an earlier object too much (IoU above `maxIoU`, or hiding more than
 * half of it) is redrawn, up to 30 tries, so every object stays at least half visible.
 */
export function sampleScene(rng: Rng, width: number, height: number, options: SceneOptions = {}): Scene {
  const o = { ...SCENE_DEFAULTS, ...options };
  const background = sampleBackground(rng);
  const bgMean: Rgb = [0, 1, 2].map((c) => (background.colors[0][c] + background.colors[1][c]) / 2) as Rgb;
  const count = rng.int(o.objects[0], o.objects[1] + 1);
  const short = Math.min(width, height);
  const shapes: Shape[] = [];
  for (let k = 0; k < count; k++) {
    const cls = o.classes[rng.int(0, o.classes.length)];
    // Saturated, bright colours at a clear distance from the background's mean colour.
    let color = hsv(rng.next(), 0.6 + rng.next() * 0.4, 0.65 + rng.next() * 0.35);
    for (let t = 0; t < 10 && colorDistance(color, bgMean) < 120; t++) color = hsv(rng.next(), 0.6 + rng.next() * 0.4, 0.65 + rng.next() * 0.35);
    for (let attempt = 0; attempt < 30; attempt++) {
      const size = short * (o.size[0] + rng.next() * (o.size[1] - o.size[0]));
      const half = size * 0.64; // the triangle's outer radius is 1.1 * size / sqrt(3) = 0.635 * size
      const cx = half + rng.next() * (width - 2 * half);
      const cy = half + rng.next() * (height - 2 * half);
      const shape = makeShape(rng, cls, cx, cy, size, color, width, height);
      const ok = shapes.every((s) => {
        const ov = overlap(s.box, shape.box);
        return ov.iou <= o.maxIoU && ov.coverA <= 0.5;
      });
      if (ok) {
        shapes.push(shape);
        break;
      }
    }
  }
  return { width, height, background, shapes };
}
