/**
 * Imports pretrained weights into a resdet model: detects the file format, maps names, converts
 * layouts with each slot's `torchLayout`, checks every shape and reports all mismatches at once.
 *
 * Names: resdet's state names are torchvision's (conv1, bn1, layer1.0.conv1, ..., fc; VGG
 * features.N / classifier.N) and akamaster's for the CIFAR nets (layer1..3, linear), so PyTorch
 * and safetensors keys map one to one once DataParallel's `module.` prefix is stripped.
 * `num_batches_tracked` (a BN step counter resdet does not keep) is ignored. Keras files go through
 * the keras-applications ResNet50 table in keras-h5.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { UserError } from '../errors.ts';
import { readFileForUser } from '../io/json.ts';
import { BatchNorm2d } from '../nn/layers.ts';
import type { Module, Slot } from '../nn/module.ts';
import type { WeightArray, WeightFile } from './arrays.ts';
import { isHdf5, KERAS_BN_EPS, mapKerasResNet, readKerasH5 } from './keras-h5.ts';
import { torchShape, toTfjsLayout } from './layout.ts';
import { readSafetensors } from './safetensors.ts';
import { isLegacyTorch, readTorchCheckpoint } from './torch.ts';
import { isZip } from './zip.ts';

export { torchShape } from './layout.ts';

/** Accepted `format` values; 'auto' detects by magic bytes. */
export const WEIGHT_FORMATS = ['auto', 'torch', 'safetensors', 'keras'] as const;
/** A weights file format (or 'auto'). */
export type WeightFormat = (typeof WEIGHT_FORMATS)[number];

/** Options of `importWeights`. */
export interface ImportOptions {
  /** file format; 'auto' (default) looks at the magic bytes */
  format?: WeightFormat;
  /** BN epsilon the Keras model was trained with (default 1e-3, keras-applications ResNet50) */
  kerasEps?: number;
  /**
   * module paths (e.g. 'fc') whose slots the file may lack: those keep their current values. The
   * detector passes its backbone's unused ImageNet classifier, so headless weights import too.
   */
  optional?: readonly string[];
}

/** What an import did. */
export interface ImportReport {
  format: Exclude<WeightFormat, 'auto'>;
  /** number of model slots set */
  loaded: number;
  /** file keys that were skipped on purpose (num_batches_tracked) */
  ignored: string[];
  /** slots under `optional` that the file lacks (left as they were); absent when none */
  absent?: string[];
}

/** Recognises a weights file by its first bytes. */
export function detectFormat(bytes: Uint8Array, file: string): Exclude<WeightFormat, 'auto'> {
  if (isZip(bytes) || isLegacyTorch(bytes)) return 'torch';
  if (isHdf5(bytes)) return 'keras';
  // safetensors: a little-endian u64 header length inside the file, then a JSON object.
  if (bytes.length >= 9 && bytes[8] === 0x7b) {
    const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (n <= BigInt(bytes.length - 8)) return 'safetensors';
  }
  throw new UserError(`${file}: unrecognised weights format: expected a PyTorch checkpoint (zip or legacy), safetensors or Keras HDF5`);
}

/** Normalises file names onto resdet's: strips DataParallel's `module.`. */
export function resdetName(name: string): string {
  return name.startsWith('module.') ? name.slice('module.'.length) : name;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
const list = (names: string[], max = 8): string => `${names.slice(0, max).join(', ')}${names.length > max ? `, ... (${names.length} in all)` : ''}`;

/**
 * Loads a weights file into `model`, all or nothing: every problem (missing keys, unexpected keys,
 * wrong shapes) is reported in one UserError before any slot is changed.
 * @param model e.g. `createBackbone('resnet50', { strideInFirst1x1: true })`
 * @param file a PyTorch checkpoint (.pth/.pt/.th, zip or legacy), .safetensors or Keras .h5
 */
export async function importWeights(model: Module, file: string, opts: ImportOptions = {}): Promise<ImportReport> {
  if (opts.format !== undefined && !WEIGHT_FORMATS.includes(opts.format)) {
    throw new UserError(`${file}: format: expected one of ${WEIGHT_FORMATS.join(', ')}, got ${JSON.stringify(opts.format)}`);
  }
  const bytes = new Uint8Array(readFileForUser(file));
  const format = !opts.format || opts.format === 'auto' ? detectFormat(bytes, file) : opts.format;
  const slots = new Map<string, Slot>(model.namedSlots());
  let weights: WeightFile;
  if (format === 'torch') weights = readTorchCheckpoint(bytes, file);
  else if (format === 'safetensors') weights = readSafetensors(bytes, file);
  else {
    const bnEps = (name: string): number => {
      try {
        const m = model.getModule(name);
        return m instanceof BatchNorm2d ? m.eps : (opts.kerasEps ?? KERAS_BN_EPS);
      } catch {
        return opts.kerasEps ?? KERAS_BN_EPS;
      }
    };
    weights = mapKerasResNet(await readKerasH5(file), file, { has: (n) => slots.has(n), bnEps }, opts.kerasEps);
  }

  const given = new Map<string, WeightArray>();
  const ignored: string[] = [];
  for (const [key, a] of weights.tensors) {
    if (key.endsWith('num_batches_tracked')) ignored.push(key);
    else given.set(resdetName(key), a);
  }
  const isOptional = (n: string): boolean => (opts.optional ?? []).some((p) => n.startsWith(`${p}.`));
  const absent = [...slots.keys()].filter((n) => !given.has(n) && isOptional(n));
  const missing = [...slots.keys()].filter((n) => !given.has(n) && !isOptional(n));
  const unexpected = [...given.keys()].filter((n) => !slots.has(n));
  const problems: string[] = [];
  const ready = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const [name, a] of given) {
    const slot = slots.get(name);
    if (!slot) continue;
    const layout = weights.layout === 'torch' ? slot.torchLayout : 'same';
    const want = weights.layout === 'torch' ? torchShape(slot.variable.shape, layout) : slot.variable.shape;
    // A torch scalar stored as [] for a [1] slot (or the reverse) is the same data.
    if (!sameShape(a.shape, want) && !(a.data.length === 1 && slot.variable.size === 1)) {
      problems.push(`${name}: expected shape [${want}]${weights.layout === 'torch' ? ' (PyTorch layout)' : ''}, got [${a.shape}]`);
      continue;
    }
    const t = a.data.length === 1 ? { data: a.data, shape: slot.variable.shape } : toTfjsLayout(a, layout);
    ready.set(name, t);
  }
  if (missing.length) problems.unshift(`missing keys: ${list(missing)}`);
  if (unexpected.length) problems.push(`unexpected keys: ${list(unexpected)}`);
  if (problems.length) {
    throw new UserError(`${file}: the ${format} weights do not fit the model (${model.constructor.name}): ${problems.slice(0, 12).join('; ')}${problems.length > 12 ? `; ... (${problems.length} problems)` : ''}`);
  }
  const state = new Map<string, tf.Tensor>();
  try {
    for (const [name, t] of ready) state.set(name, tf.tensor(t.data, slots.get(name)!.variable.shape, 'float32'));
    // strict unless optional slots are absent (everything else was checked above)
    model.loadStateDict(state, absent.length === 0);
  } finally {
    for (const t of state.values()) t.dispose();
  }
  return { format, loaded: ready.size, ignored, ...(absent.length ? { absent } : {}) };
}
