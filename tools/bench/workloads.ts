/**
 * The synthetic inputs the benchmarks share (bench:train, bench:detect, bench:profile,
 * bench:soak): seeded random classification batches, seeded noise images with three boxes as the
 * detection mapper's output, and the zero-initialised residual branches that keep a random-weight
 * detector doing the recipe's full work.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Bottleneck } from '../../backbones/blocks.ts';
import type { DetectionBatch, MappedImage } from '../../datasets/detection/index.ts';
import type { FasterRCNN } from '../../detectors/index.ts';
import { Rng } from '../../src/random.ts';
import type { ClassificationBatch } from '../../src/train/classification.ts';

/** `n` images of `side` x `side` (standard normal pixels) and labels in [0, classes), from `seed`. */
export function randomBatch(n: number, side: number, classes: number, seed: number): ClassificationBatch {
  const rng = new Rng(seed);
  const images = Float32Array.from({ length: n * side * side * 3 }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, () => rng.int(0, classes));
  return { images, labels, shape: [n, side, side, 3] };
}

/** `n` seeded random-noise images of `height` x `width` with 3 GT boxes each, as the detection mapper's output. */
export function noiseBatch(n: number, height: number, width: number): DetectionBatch {
  const rng = new Rng(7);
  const images: MappedImage[] = Array.from({ length: n }, (_, i) => ({
    record: {
      id: `noise${i}`, imagePath: '', annotationFile: '', width, height,
      boxes: new Float32Array(0), labels: new Int32Array(0), ignore: new Uint8Array(0),
    },
    width, height, scaleX: 1, scaleY: 1, flipped: false, dropped: 0,
    pixels: Float32Array.from({ length: height * width * 3 }, () => rng.normal()),
    // a small, a middle and a large object (anchor sides 128-512) at 600 x 1000, scaled with the input
    boxes: Float32Array.from([100, 80, 220, 260, 400, 150, 700, 450, 50, 20, 950, 580].map((v, k) => (k % 2 ? (v * height) / 600 : (v * width) / 1000))),
    labels: Int32Array.from([rng.int(0, 20), rng.int(0, 20), rng.int(0, 20)]),
  }));
  return { step: 0, images };
}

/**
 * Zero-initialises the last BN scale of every bottleneck (Goyal et al. 2017; torchvision
 * `zero_init_residual`, which the PyTorch peer uses too): each residual block starts as the
 * identity. With random weights and frozen identity BN the trunk's activations otherwise grow
 * block by block (feature std about 23 at conv4 of ResNet-50 here), the RPN's deltas blow every
 * proposal up to the image border, NMS collapses them (295 of 2000 proposals, 96 of 128 RoIs
 * measured on ResNet-50 at 600x1000) and the losses diverge: less work per step than the recipe's,
 * and different work than the peer's. Zeroed, the step runs the recipe's 2000 proposals and 128
 * RoIs; the kernels compute the same (dense multiply-adds do not care about the values).
 */
export function zeroInitResiduals(model: FasterRCNN): void {
  const visit = (m: { namedChildren(): Iterable<[string, unknown]> }): void => {
    if (m instanceof Bottleneck) tf.tidy(() => m.bn3.weight.assign(tf.zerosLike(m.bn3.weight)));
    for (const [, child] of m.namedChildren()) visit(child as typeof m);
  };
  visit(model.backbone);
}
