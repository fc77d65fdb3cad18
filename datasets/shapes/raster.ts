/**
 * Turns a scene (./scene.ts) into RGB pixels: a textured background, the shapes drawn in order
 * with anti-aliased edges (4x4 samples per pixel), then a little per-pixel noise so that no
 * region is flat. Plain JS on a Uint8Array, [H, W, 3] row-major; sharp encodes it.
 */
import type { Rng } from '../../src/random.ts';
import type { Background, Rgb, Scene, Shape } from './scene.ts';

const clamp255 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Smooth value noise: random values on a coarse grid, bilinearly interpolated. */
function valueNoise(rng: Rng, w: number, h: number, cell: number): Float32Array {
  const gw = Math.ceil(w / cell) + 2;
  const gh = Math.ceil(h / cell) + 2;
  const grid = new Float32Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.next();
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const gy = y / cell;
    const y0 = Math.floor(gy);
    const fy = gy - y0;
    for (let x = 0; x < w; x++) {
      const gx = x / cell;
      const x0 = Math.floor(gx);
      const fx = gx - x0;
      const a = grid[y0 * gw + x0] * (1 - fx) + grid[y0 * gw + x0 + 1] * fx;
      const b = grid[(y0 + 1) * gw + x0] * (1 - fx) + grid[(y0 + 1) * gw + x0 + 1] * fx;
      out[y * w + x] = a * (1 - fy) + b * fy;
    }
  }
  return out;
}

/**
 * Fills `pixels` with the background: a mix `t` in [0, 1] per pixel between its two colours,
 * where `t` is white noise ('noise'), a ramp along `angle` ('gradient'), soft stripes across
 * `angle` ('stripes') or smooth value noise ('blobs').
 */
export function drawBackground(pixels: Uint8Array, w: number, h: number, bg: Background, rng: Rng): void {
  const [c0, c1] = bg.colors;
  const cos = Math.cos(bg.angle);
  const sin = Math.sin(bg.angle);
  const blobs = bg.texture === 'blobs' ? valueNoise(rng, w, h, bg.period * 2) : undefined;
  const extent = Math.abs(w * cos) + Math.abs(h * sin);
  const offset = Math.min(0, w * cos) + Math.min(0, h * sin);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const along = x * cos + y * sin;
      let t: number;
      switch (bg.texture) {
        case 'noise': t = rng.next(); break;
        case 'gradient': t = (along - offset) / extent; break;
        case 'stripes': t = 0.5 + 0.5 * Math.tanh(3 * Math.sin((2 * Math.PI * (-x * sin + y * cos)) / bg.period)); break;
        default: t = blobs![y * w + x];
      }
      const i = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) pixels[i + c] = clamp255(c0[c] * (1 - t) + c1[c] * t);
    }
  }
}

/** Even-odd point-in-polygon test. */
function insidePolygon(v: readonly number[], px: number, py: number): boolean {
  let inside = false;
  const n = v.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = v[2 * i], yi = v[2 * i + 1], xj = v[2 * j], yj = v[2 * j + 1];
    if ((yi > py) !== (yj > py) && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function insideShape(s: Shape, px: number, py: number): boolean {
  if (s.circle) {
    const dx = px - s.circle.cx;
    const dy = py - s.circle.cy;
    return dx * dx + dy * dy <= s.circle.r * s.circle.r;
  }
  return insidePolygon(s.polygon!, px, py);
}

const SAMPLES = 4;

/** Blends one shape over `pixels` with its coverage (the fraction of 4x4 samples inside). */
export function drawShape(pixels: Uint8Array, w: number, h: number, s: Shape): void {
  const [x1, y1, x2, y2] = s.box;
  const color: Rgb = s.color;
  for (let y = y1; y < y2; y++) {
    for (let x = x1; x < x2; x++) {
      let hits = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          if (insideShape(s, x + (sx + 0.5) / SAMPLES, y + (sy + 0.5) / SAMPLES)) hits++;
        }
      }
      if (hits === 0) continue;
      const a = hits / (SAMPLES * SAMPLES);
      const i = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) pixels[i + c] = clamp255(pixels[i + c] * (1 - a) + color[c] * a);
    }
  }
}

/**
 * Renders a scene to RGB bytes.
 * @param rng draws the background noise and the final grain (same rng state, same pixels)
 * @returns [height, width, 3] RGB, row-major
 */
export function renderScene(scene: Scene, rng: Rng): Uint8Array {
  const { width: w, height: h } = scene;
  const pixels = new Uint8Array(w * h * 3);
  drawBackground(pixels, w, h, scene.background, rng);
  for (const s of scene.shapes) drawShape(pixels, w, h, s);
  // Grain (uniform, +-8): keeps shapes from being perfectly flat, as camera noise would.
  for (let i = 0; i < pixels.length; i++) pixels[i] = clamp255(pixels[i] + (rng.next() - 0.5) * 16);
  return pixels;
}
