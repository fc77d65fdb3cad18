/**
 * Brute-force references for the RoI ops (direct ports of torchvision's roi_align and Caffe's
 * ROIPoolingLayer loops, one output value at a time) and a finite-difference gradient check.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../src/random.ts';

/** Features [N, H, W, C] as a flat NHWC array. */
export interface Map4 {
  data: Float32Array;
  shape: [number, number, number, number];
}

export function randomMap(shape: [number, number, number, number], seed: number): Map4 {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.next() * 2 - 1), shape };
}

function at(m: Map4, b: number, y: number, x: number, c: number): number {
  const [, h, w, ch] = m.shape;
  return m.data[((b * h + y) * w + x) * ch + c];
}

function bilinear(m: Map4, b: number, y: number, x: number, c: number): number {
  const [, h, w] = m.shape;
  if (y < -1 || y > h || x < -1 || x > w) return 0;
  y = Math.max(y, 0);
  x = Math.max(x, 0);
  let y0 = Math.floor(y), x0 = Math.floor(x), y1: number, x1: number;
  if (y0 >= h - 1) { y0 = y1 = h - 1; y = y0; } else y1 = y0 + 1;
  if (x0 >= w - 1) { x0 = x1 = w - 1; x = x0; } else x1 = x0 + 1;
  const ly = y - y0, lx = x - x0;
  return (1 - ly) * (1 - lx) * at(m, b, y0, x0, c) + (1 - ly) * lx * at(m, b, y0, x1, c) + ly * (1 - lx) * at(m, b, y1, x0, c) + ly * lx * at(m, b, y1, x1, c);
}

/** torchvision roi_align, one output at a time: [R, P, P, C] flat. */
export function referenceRoiAlign(m: Map4, boxes: number[][], batch: number[], p: number, scale: number, sampling: number, aligned: boolean): Float32Array {
  const c = m.shape[3];
  const out = new Float32Array(boxes.length * p * p * c);
  const off = aligned ? 0.5 : 0;
  boxes.forEach(([x1, y1, x2, y2], r) => {
    const sw = x1 * scale - off, sh = y1 * scale - off;
    let rw = x2 * scale - off - sw, rh = y2 * scale - off - sh;
    if (!aligned) { rw = Math.max(rw, 1); rh = Math.max(rh, 1); }
    const bh = rh / p, bw = rw / p;
    const gh = sampling > 0 ? sampling : Math.ceil(rh / p), gw = sampling > 0 ? sampling : Math.ceil(rw / p);
    const count = Math.max(gh * gw, 1);
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) for (let k = 0; k < c; k++) {
      let sum = 0;
      for (let iy = 0; iy < gh; iy++) for (let ix = 0; ix < gw; ix++) {
        sum += bilinear(m, batch[r], sh + i * bh + ((iy + 0.5) * bh) / gh, sw + j * bw + ((ix + 0.5) * bw) / gw, k);
      }
      out[((r * p + i) * p + j) * c + k] = sum / count;
    }
  });
  return out;
}

const cRound = (v: number) => Math.sign(v) * Math.round(Math.abs(v));

/** Caffe ROIPoolingLayer forward: [R, P, P, C] flat. */
export function referenceRoiPool(m: Map4, boxes: number[][], batch: number[], p: number, scale: number): Float32Array {
  const [, h, w, c] = m.shape;
  const out = new Float32Array(boxes.length * p * p * c);
  boxes.forEach(([x1, y1, x2, y2], r) => {
    const sw = cRound(x1 * scale), sh = cRound(y1 * scale), ew = cRound(x2 * scale), eh = cRound(y2 * scale);
    const bh = Math.max(eh - sh + 1, 1) / p, bw = Math.max(ew - sw + 1, 1) / p;
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) {
      const hs = Math.min(Math.max(Math.floor(i * bh) + sh, 0), h), he = Math.min(Math.max(Math.ceil((i + 1) * bh) + sh, 0), h);
      const ws = Math.min(Math.max(Math.floor(j * bw) + sw, 0), w), we = Math.min(Math.max(Math.ceil((j + 1) * bw) + sw, 0), w);
      for (let k = 0; k < c; k++) {
        let v = he <= hs || we <= ws ? 0 : -Infinity;
        for (let y = hs; y < he; y++) for (let x = ws; x < we; x++) v = Math.max(v, at(m, batch[r], y, x, k));
        out[((r * p + i) * p + j) * c + k] = v;
      }
    }
  });
  return out;
}

/**
 * Checks d/dF sum(op(F) * weights) from tf.grad against central differences on every entry.
 * @returns the largest absolute difference
 */
export function gradientCheck(op: (f: tf.Tensor4D) => tf.Tensor, m: Map4, eps: number, seed: number): number {
  const features = tf.tensor4d(m.data, m.shape);
  const outShape = tf.tidy(() => op(features).shape);
  const rng = new Rng(seed);
  const weights = tf.tensor(Float32Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1), outShape);
  const loss = (f: tf.Tensor4D) => tf.sum(tf.mul(op(f), weights));
  const gradient = tf.tidy(() => tf.grad((f: tf.Tensor) => loss(f as tf.Tensor4D))(features));
  const analytic = gradient.dataSync();
  gradient.dispose();
  let worst = 0;
  const data = Float32Array.from(m.data);
  for (let i = 0; i < data.length; i++) {
    const evalAt = (v: number) => {
      data[i] = v;
      return tf.tidy(() => loss(tf.tensor4d(data, m.shape)).dataSync()[0]);
    };
    const orig = m.data[i];
    const numeric = (evalAt(orig + eps) - evalAt(orig - eps)) / (2 * eps);
    data[i] = orig;
    worst = Math.max(worst, Math.abs(numeric - analytic[i]));
  }
  tf.dispose([features, weights]);
  return worst;
}
