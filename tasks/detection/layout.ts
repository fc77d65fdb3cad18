/**
 * The geometry of pictures of detections a person can read, pure and Node-free: `resdet detect
 * --draw` (./draw.ts) and the web page (tools/web/page.ts) both place labels with it. The image,
 * upscaled when small (a 128x96 shapes image becomes 427x320), sits under a header with a title
 * and a legend of the classes drawn; one box per detection in its class's colour with a dark
 * halo (visible on light and dark pixels); one label per box ("circle 0.93") in a bitmap font
 * (./font.ts) on a filled background of the class's colour, placed where it overlaps no other
 * label and stays on the picture ({@link placeLabels}). {@link layoutDetections} computes the
 * geometry and {@link detectionsSvg} writes it as an SVG overlay; ./draw.ts composites that onto
 * the resized image with sharp.
 */
import { GLYPH, textPath, textSize } from './font.ts';
import type { ImageDetections } from './inference.ts';

/** Distinct, saturated colours; class k gets `PALETTE[k % length]` ({@link classColor}). */
export const PALETTE = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe', '#008080', '#e6beff'];

/** Class k's colour in every picture of detections (`resdet detect --draw`, the web page). */
export function classColor(k: number): string {
  return PALETTE[k % PALETTE.length];
}

/** Options of {@link layoutDetections} and ./draw.ts `drawDetections`. */
export interface DrawOptions {
  /** smaller images are upscaled so that their shorter side is at least this (pixels); default 320 */
  minShortSide?: number;
  /** the header's first line; drawDetections defaults to the image's file name */
  title?: string;
}

/** A rectangle, [x, y] its top-left corner. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One drawn box and its label (absent when no free place was left for it). */
export interface DrawnDetection {
  /** [x1, y1, x2, y2] in picture pixels (below the header) */
  box: [number, number, number, number];
  color: string;
  label?: Rect & { text: string; textColor: string };
  /** a line from a label placed away from its box (a crowded picture) to the box's nearest point */
  leader?: [number, number, number, number];
}

/**
 * The shortest segment from a label to its box's outline region, when they do not touch.
 * @returns [x1, y1, x2, y2] from the label to the box, or undefined when they touch
 */
export function leaderLine(label: Rect, box: readonly [number, number, number, number]): [number, number, number, number] | undefined {
  const [bx1, by1, bx2, by2] = box;
  // the nearest pair of points of two axis-aligned rectangles, per axis
  const axis = (lo: number, hi: number, blo: number, bhi: number): [number, number] =>
    hi < blo ? [hi, blo] : bhi < lo ? [lo, bhi] : [Math.max(lo, blo), Math.max(lo, blo)];
  const [ax, bx] = axis(label.x, label.x + label.width, bx1, bx2);
  const [ay, by] = axis(label.y, label.y + label.height, by1, by2);
  return Math.hypot(bx - ax, by - ay) > 1 ? [ax, ay, bx, by] : undefined;
}

/** Everything {@link detectionsSvg} draws, in picture pixels. */
export interface DetectionsLayout {
  /** the whole picture: header above the (resized) image */
  width: number;
  height: number;
  /** the resized image: width x imageHeight at (0, headerHeight) */
  imageHeight: number;
  headerHeight: number;
  /** image pixels per original pixel */
  scale: number;
  /** picture pixels per font pixel */
  fontScale: number;
  lineWidth: number;
  /** in drawing order: lowest score first, so the most confident boxes end up on top */
  detections: DrawnDetection[];
  /**
   * header rows (y = the row's top; the text and swatch sit 3 * fontScale below it): the title,
   * then legend entries (a swatch in the class colour and "class (count)")
   */
  title?: { text: string; x: number; y: number };
  legend: Array<{ text: string; color: string; swatch: Rect; x: number; y: number }>;
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/**
 * Places one label per box, most important first (the order given): just above the box's
 * top-left corner where there is room, else inside its top edge (a box touching the picture's
 * top), below the box, or inside its bottom edge, each at the box's left edge or, near the right
 * border, its right edge; where all of those collide with a label already placed, the free
 * position nearest the box. Labels never overlap each other and stay inside the canvas; a label
 * that fits nowhere (a crowded picture, a label wider than the canvas) is left out (undefined).
 * @param boxes [x1, y1, x2, y2] per label, in canvas pixels
 * @param sizes each label's width and height
 */
export function placeLabels(
  boxes: ReadonlyArray<readonly [number, number, number, number]>,
  sizes: ReadonlyArray<{ width: number; height: number }>,
  canvas: { width: number; height: number },
): Array<Rect | undefined> {
  const placed: Rect[] = [];
  return boxes.map(([x1, y1, x2, y2], i) => {
    const { width: w, height: h } = sizes[i];
    if (w > canvas.width || h > canvas.height) return undefined;
    const maxX = canvas.width - w;
    const maxY = canvas.height - h;
    const free = (x: number, y: number) => {
      const r = { x, y, width: w, height: h };
      return placed.every((p) => !overlaps(p, r)) ? r : undefined;
    };
    const xs = [...new Set([clamp(x1, 0, maxX), clamp(x2 - w, 0, maxX)])];
    const ys = [y1 - h, y1, y2, y2 - h].filter((y) => y >= 0 && y <= maxY);
    let found: Rect | undefined;
    for (const y of ys) for (const x of xs) found ??= free(x, y);
    if (!found) {
      // the nearest free place to "above the box's left corner", scanning in quarter-label steps
      const want = { x: clamp(x1, 0, maxX), y: clamp(y1 - h, 0, maxY) };
      const steps = (max: number, step: number) => [...Array.from({ length: Math.floor(max / step) + 1 }, (_, k) => k * step), max];
      const candidates = steps(maxY, Math.max(1, h / 4)).flatMap((y) => steps(maxX, Math.max(1, w / 4)).map((x) => ({ x, y })));
      candidates.sort((a, b) => Math.hypot(a.x - want.x, a.y - want.y) - Math.hypot(b.x - want.x, b.y - want.y));
      for (const c of candidates) if ((found = free(c.x, c.y))) break;
    }
    if (found) placed.push(found);
    return found;
  });
}

/** Black or white, whichever reads better on `hex` (WCAG relative luminance). */
export function textColorOn(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 ? '#000000' : '#ffffff';
}

/** A detection's box on the canvas, with its label and leader line when placed ({@link placeDetections}). */
export interface PlacedDetection {
  /** [x1, y1, x2, y2] in canvas pixels, clamped to the canvas */
  box: [number, number, number, number];
  label?: Rect;
  leader?: [number, number, number, number];
}

/**
 * Puts detections on a canvas: boxes scaled and clamped to it, labels placed most confident
 * first (ties: the earlier first), so that a crowd pushes the least confident ones away
 * ({@link placeLabels}), and a leader line for each label placed away from its box. Both
 * pictures of detections use it: ./draw.ts (through {@link layoutDetections}) and the web page.
 * @param boxes [x1, y1, x2, y2] per detection in original-image pixels
 * @param scale canvas pixels per original pixel
 * @param labelSizes each detection's label size in canvas pixels
 * @returns `order`: detection indices, most confident first; `placed`: per detection, in input order
 */
export function placeDetections(
  boxes: ReadonlyArray<ArrayLike<number>>, scores: ArrayLike<number>, labelSizes: ReadonlyArray<{ width: number; height: number }>,
  scale: number, canvas: { width: number; height: number },
): { order: number[]; placed: PlacedDetection[] } {
  const clamped = Array.from(boxes, (b): [number, number, number, number] => [
    clamp(b[0] * scale, 0, canvas.width), clamp(b[1] * scale, 0, canvas.height), clamp(b[2] * scale, 0, canvas.width), clamp(b[3] * scale, 0, canvas.height),
  ]);
  const order = clamped.map((_, k) => k).sort((a, b) => scores[b] - scores[a] || a - b);
  const rects = placeLabels(order.map((k) => clamped[k]), order.map((k) => labelSizes[k]), canvas);
  const placed: PlacedDetection[] = clamped.map((box) => ({ box }));
  order.forEach((k, i) => {
    const label = rects[i];
    if (!label) return;
    const leader = leaderLine(label, clamped[k]);
    placed[k] = { box: clamped[k], label, ...(leader ? { leader } : {}) };
  });
  return { order, placed };
}

/** Cuts `text` to at most `max` characters, marking the cut with "..". */
function fit(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 2)).join('')}..`;
}

/**
 * The geometry of a detections picture (pure).
 * @param size the original image's width and height
 * @param dets boxes in original-image pixels, 0-based labels into `classes`
 */
export function layoutDetections(size: { width: number; height: number }, dets: ImageDetections, classes: readonly string[], options: DrawOptions = {}): DetectionsLayout {
  const minShort = options.minShortSide ?? 320;
  const scale = Math.max(1, minShort / Math.min(size.width, size.height));
  const width = Math.round(size.width * scale);
  const imageHeight = Math.round(size.height * scale);
  const short = Math.min(width, imageHeight);
  // 17 px text up to a 640 px shorter side, then whole multiples (crisp pixels)
  const fontScale = Math.max(1, Math.round(short / 640));
  const lineWidth = Math.max(2, Math.round(short / 160));
  const pad = 3 * fontScale;
  const lineHeight = GLYPH.height * fontScale + 2 * pad;
  const maxChars = Math.max(1, Math.floor((width - 2 * pad) / (GLYPH.width * fontScale)));

  // header: the title line, then the legend entries flowing left to right
  // header rows are lineHeight high; stored y values are row tops, text sits `pad` below them
  const title = options.title === undefined ? undefined : { text: fit(options.title, maxChars), x: pad, y: 0 };
  const counts = new Map<number, number>();
  for (const l of dets.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const entries = [...counts].sort((a, b) => a[0] - b[0]).map(([l, n]) => ({ text: `${classes[l] ?? `class ${l}`} (${n})`, color: classColor(l) }));
  if (entries.length === 0) entries.push({ text: 'no detections', color: '#808080' });
  const swatchSide = GLYPH.height * fontScale;
  const legend: DetectionsLayout['legend'] = [];
  let x = pad;
  let y = title ? lineHeight : 0;
  for (const e of entries) {
    const text = fit(e.text, Math.max(1, maxChars - 2));
    const w = swatchSide + pad + textSize(text, fontScale).width;
    if (x > pad && x + w > width - pad) {
      x = pad;
      y += lineHeight;
    }
    legend.push({ text, color: e.color, swatch: { x, y, width: swatchSide, height: swatchSide }, x: x + swatchSide + pad, y });
    x += w + 3 * pad;
  }
  const headerHeight = y + lineHeight;

  // boxes in picture pixels, labels placed most confident first; drawn least confident first
  const n = dets.scores.length;
  const texts = Array.from({ length: n }, (_, k) => fit(`${classes[dets.labels[k]] ?? `class ${dets.labels[k]}`} ${dets.scores[k].toFixed(2)}`, maxChars));
  const { order, placed } = placeDetections(
    Array.from({ length: n }, (_, k) => dets.boxes.subarray(4 * k, 4 * k + 4)),
    dets.scores,
    texts.map((t) => {
      const s = textSize(t, fontScale);
      return { width: s.width + 2 * pad, height: s.height + 2 * pad };
    }),
    scale,
    { width, height: imageHeight },
  );
  const detections: DrawnDetection[] = order.map((k) => {
    const { box, label, leader } = placed[k];
    const color = classColor(dets.labels[k]);
    return { box, color, ...(label ? { label: { ...label, text: texts[k], textColor: textColorOn(color) } } : {}), ...(leader ? { leader } : {}) };
  });
  detections.reverse();
  return { width, height: headerHeight + imageHeight, imageHeight, headerHeight, scale, fontScale, lineWidth, detections, ...(title ? { title } : {}), legend };
}

const num = (v: number) => String(Math.round(v * 100) / 100);

/** The SVG overlay of a layout (the whole picture; the image shows where it is not drawn on). */
export function detectionsSvg(layout: DetectionsLayout): string {
  const { width, height, headerHeight: top, fontScale: fs, lineWidth: lw } = layout;
  const pad = 3 * fs;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" shape-rendering="crispEdges">`];
  out.push(`<rect x="0" y="0" width="${width}" height="${top}" fill="#1e1e1e"/>`);
  if (layout.title) out.push(`<path fill="#ffffff" d="${textPath(layout.title.text, layout.title.x, layout.title.y + pad, fs)}"/>`);
  for (const e of layout.legend) {
    out.push(`<rect x="${num(e.swatch.x)}" y="${num(e.swatch.y + pad)}" width="${num(e.swatch.width)}" height="${num(e.swatch.height)}" fill="${e.color}"/>`);
    out.push(`<path fill="#ffffff" d="${textPath(e.text, e.x, e.y + pad, fs)}"/>`);
  }
  out.push(`<g transform="translate(0 ${top})">`);
  for (const d of layout.detections) {
    const [x1, y1, x2, y2] = d.box;
    const rect = `x="${num(x1)}" y="${num(y1)}" width="${num(x2 - x1)}" height="${num(y2 - y1)}" fill="none"`;
    out.push(`<rect ${rect} stroke="#000000" stroke-opacity="0.6" stroke-width="${lw + 2}"/>`, `<rect ${rect} stroke="${d.color}" stroke-width="${lw}"/>`);
  }
  for (const d of layout.detections) {
    if (!d.leader) continue;
    const [ax, ay, bx, by] = d.leader.map(num);
    out.push(`<line x1="${ax}" y1="${ay}" x2="${bx}" y2="${by}" stroke="${d.color}" stroke-width="${Math.max(1, lw / 2)}" shape-rendering="auto"/>`);
  }
  // labels over every box
  for (const d of layout.detections) {
    if (!d.label) continue;
    const l = d.label;
    out.push(`<rect x="${num(l.x)}" y="${num(l.y)}" width="${num(l.width)}" height="${num(l.height)}" fill="${d.color}" stroke="#000000" stroke-opacity="0.6" stroke-width="1"/>`);
    out.push(`<path fill="${l.textColor}" d="${textPath(l.text, l.x + pad, l.y + pad, fs)}"/>`);
  }
  out.push('</g></svg>');
  return out.join('');
}
