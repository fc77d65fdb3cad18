/**
 * Classification inference with imported weights: build a registered backbone, load a weights
 * file into it, turn images into inputs the way the weights were trained, and rank classes.
 * Shared by `resdet classify` and `resdet eval-classifier`.
 *
 * Preprocessing (the two conventions pretrained ResNets come with):
 * - torchvision: RGB / 255, then (v - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]; ImageNet
 *   inputs are the shorter side resized to 256 and the centre 224 crop (torchvision's
 *   Resize(256) + CenterCrop(224)). The akamaster CIFAR-10 weights use the same normalisation.
 * - caffe: BGR in 0..255 minus the mean pixel [103.939, 116.779, 123.68] (MSRA's Caffe models and
 *   keras-applications ResNet50), same resize and crop.
 * An image already at the network's input size (224, or 32 for CIFAR nets) is used as it is.
 */
import fs from 'node:fs';
import sharp from 'sharp';
import { createBackbone, type Backbone } from '../../backbones/index.ts';
import { CifarResNet } from '../../backbones/cifar-resnet.ts';
import { cropNormalise, IMAGENET_CHANNEL_MEAN, TORCHVISION_NORM, centreCrop, tenCrop, type Normalisation } from '../../datasets/classification/augment.ts';
import { decodeRecord } from '../../datasets/classification/decode.ts';
import { CIFAR10_CLASSES, type ClassificationRecord } from '../../datasets/classification/records.ts';
import { inputError, OptionError, quote } from '../../src/errors.ts';
import { detectFormat, importWeights, WEIGHT_FORMATS, type ImportReport, type WeightFormat } from '../../src/weights/import.ts';

/** The input conventions `--preprocess` accepts. */
export const PREPROCESS_NAMES = ['torchvision', 'caffe'] as const;
/** One of PREPROCESS_NAMES. */
export type PreprocessName = (typeof PREPROCESS_NAMES)[number];

/** A backbone with weights loaded, in eval mode, and how to feed it. */
export interface Classifier {
  model: Backbone;
  /** input side: 224 for ImageNet nets, 32 for CIFAR nets */
  inputSize: number;
  /** shorter side before the centre crop (256 for ImageNet; CIFAR nets: the input size) */
  resizeTo: number;
  preprocess: PreprocessName;
  /** classifier outputs */
  numClasses: number;
  /** class names by index when known (CIFAR-10), else null */
  classes: string[] | null;
  report: ImportReport;
}

/** Options of `loadClassifier`. */
export interface ClassifierOptions {
  weights: string;
  preprocess?: PreprocessName;
  format?: WeightFormat;
  numClasses?: number;
  /** stride on the bottleneck's first 1x1 (Caffe/Keras ResNets); default: true for Keras files */
  strideInFirst1x1?: boolean;
}

/** The first `n` bytes of a file (format detection without reading a 100 MB checkpoint twice). */
function readHead(file: string, n: number): Uint8Array {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw inputError(file, '', `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    const head = new Uint8Array(n);
    return head.subarray(0, fs.readSync(fd, head, 0, n, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Builds `name` and imports `opts.weights` into it.
 * @throws UserError for a bad name, preprocessing (an OptionError naming the field), or weights that do not fit
 */
export async function loadClassifier(name: string, opts: ClassifierOptions): Promise<Classifier> {
  const preprocess = opts.preprocess ?? 'torchvision';
  if (!PREPROCESS_NAMES.includes(preprocess)) throw new OptionError((n) => `${n('preprocess')}: expected one of ${PREPROCESS_NAMES.join(', ')}, got ${quote(preprocess)}`);
  if (opts.format !== undefined && !WEIGHT_FORMATS.includes(opts.format)) throw new OptionError((n) => `${n('format')}: expected one of ${WEIGHT_FORMATS.join(', ')}, got ${quote(opts.format)}`);
  const format = opts.format && opts.format !== 'auto' ? opts.format : detectFormat(readHead(opts.weights, 4096), opts.weights);
  const model = createBackbone(name, {
    ...(opts.numClasses ? { numClasses: opts.numClasses } : {}),
    strideInFirst1x1: opts.strideInFirst1x1 ?? format === 'keras',
    // importWeights fills every slot or throws: the random draws would be thrown away
    init: 'none',
  });
  try {
    const report = await importWeights(model, opts.weights, { format });
    model.eval();
    const cifar = model instanceof CifarResNet;
    const numClasses = lastLinearSize(model);
    return {
      model,
      inputSize: cifar ? 32 : 224,
      resizeTo: cifar ? 32 : 256,
      preprocess,
      numClasses,
      classes: cifar && numClasses === 10 ? CIFAR10_CLASSES : null,
      report,
    };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** Number of outputs of the classifier (the last slot's first dimension: the fc bias). */
function lastLinearSize(model: Backbone): number {
  const slots = model.namedSlots();
  return slots[slots.length - 1][1].variable.shape[0];
}

function normalisation(p: PreprocessName): Normalisation {
  return p === 'caffe' ? IMAGENET_CHANNEL_MEAN : TORCHVISION_NORM;
}

/** Caffe's inputs are BGR: swap channels 0 and 2 of an [.., 3] array in place. */
function toBgr(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i += 3) {
    const r = a[i];
    a[i] = a[i + 2];
    a[i + 2] = r;
  }
  return a;
}

async function sizeOf(record: ClassificationRecord): Promise<{ width: number; height: number }> {
  if (record.image.kind === 'pixels') return record.image;
  try {
    const m = await sharp(record.image.path).metadata();
    // EXIF orientation is not applied by the decoder either, so the stored size is the one used.
    return { width: m.width ?? 0, height: m.height ?? 0 };
  } catch (err) {
    throw inputError(record.image.path, '', `expected an image sharp can decode, got an error (${(err as Error).message})`);
  }
}

/**
 * One image's network inputs: [S, S, 3] each (one, or ten for `tenCrop`: four corners and the
 * centre, then their horizontal flips).
 */
export async function prepareInputs(c: Classifier, record: ClassificationRecord, tenCrops = false): Promise<Float32Array[]> {
  const norm = normalisation(c.preprocess);
  const s = c.inputSize;
  const { width, height } = await sizeOf(record);
  let crops: Float32Array[];
  if (width === s && height === s) {
    // Already at the input size: no resampling (the CIFAR test JPEGs, pre-cropped ImageNet images).
    const px = await decodeRecord(record);
    crops = [cropNormalise(px, 0, 0, s, s, false, norm)];
    if (tenCrops) crops = [...Array(5).fill(crops[0]), ...Array(5).fill(cropNormalise(px, 0, 0, s, s, true, norm))];
  } else {
    crops = tenCrops ? await tenCrop(record, norm, c.resizeTo, s) : [await centreCrop(record, norm, c.resizeTo, s)];
  }
  return c.preprocess === 'caffe' ? crops.map((a) => toBgr(a.slice())) : crops;
}

/** One ranked class. */
export interface Ranked {
  index: number;
  /** class name when known */
  class: string | null;
  logit: number;
  /** softmax probability */
  prob: number;
}

/**
 * The `k` largest logits, best first (ties: lower index first), with softmax probabilities.
 * @param logits [C]
 */
export function topK(logits: ArrayLike<number>, k: number, classes: readonly string[] | null = null): Ranked[] {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[i] - max);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
  return order.slice(0, k).map((index) => ({ index, class: classes?.[index] ?? null, logit: logits[index], prob: Math.exp(logits[index] - max) / sum }));
}

/** True when `label` is among the `k` largest logits (ties count against: strict rank). */
export function inTopK(logits: ArrayLike<number>, label: number, k: number): boolean {
  const v = logits[label];
  let above = 0;
  for (let i = 0; i < logits.length; i++) if (logits[i] > v || (logits[i] === v && i < label)) above++;
  return above < k;
}
