/**
 * `npm run bench:roi-ops`: time and memory of the RoI ops at the paper's scale on this machine's
 * backend, printed as one JSON object. The shapes are those of a 600 x 1000 image at stride 16
 * (a 38 x 63 map) with 128 sampled RoIs: RoIAlign 14 x 14 over 1024 channels (ResNet conv4) and
 * RoIPool 7 x 7 over 512 channels (VGG-16 conv5_3). `forwardMs` is the op alone; `backwardMs` is
 * tf.grad of sum(op(F) * W) (forward included); `peakMB` is tf.profile's peak tensor memory.
 * Each timing is the median of --repeats runs (default 3) after one warm-up.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { ensureGradients } from '../../src/backend/gradients.ts';
import { roiAlign } from '../../detectors/roi-align.ts';
import { roiPool } from '../../detectors/roi-pool.ts';
import { Rng } from '../../src/random.ts';

const args = process.argv.slice(2);
const repeats = Number(args[args.indexOf('--repeats') + 1] || 3);

function randomRois(n: number, height: number, width: number, rng: Rng): Float32Array {
  const out = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const w = 32 + rng.next() * 400;
    const h = 32 + rng.next() * 400;
    const x = rng.next() * (width - w);
    const y = rng.next() * (height - h);
    out.set([x, y, x + w, y + h], 4 * i);
  }
  return out;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function measure(channels: number, op: (f: tf.Tensor4D) => tf.Tensor) {
  const features = tf.randomNormal([1, 38, 63, channels], 0, 1, 'float32', 1) as tf.Tensor4D;
  const outShape = tf.tidy(() => op(features).shape);
  const weights = tf.randomNormal(outShape, 0, 1, 'float32', 2);
  // read one value back so the (possibly lazy) backend finishes the work inside the timing
  const run = (fn: () => tf.Tensor) => {
    const t = fn();
    t.dataSync();
    t.dispose();
  };
  const fwd = () => run(() => op(features));
  const bwd = () => run(() => tf.grad((f: tf.Tensor) => tf.sum(tf.mul(op(f as tf.Tensor4D), weights)))(features));
  const time = (fn: () => unknown) => {
    fn();
    const ms: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      fn();
      ms.push(performance.now() - t);
    }
    return Math.round(median(ms));
  };
  const forwardMs = time(fwd);
  const backwardMs = time(bwd);
  const peak = (await tf.profile(bwd)).peakBytes;
  tf.dispose([features, weights]);
  return { outputShape: outShape, forwardMs, backwardMs, peakMB: Math.round(peak / 2 ** 20) };
}

const info = await initBackend();
await ensureGradients();
const rois = randomRois(128, 600, 1000, new Rng(0));
const batch = new Int32Array(128);
const align = await measure(1024, (f) => roiAlign(f, rois, batch, { outputSize: 14, spatialScale: 1 / 16, samplingRatio: 2, aligned: false }));
const pool = await measure(512, (f) => roiPool(f, rois, batch, { outputSize: 7, spatialScale: 1 / 16 }));
console.log(JSON.stringify({ backend: info.chosen, featureMap: [1, 38, 63], rois: 128, repeats, roiAlign: align, roiPool: pool }));
