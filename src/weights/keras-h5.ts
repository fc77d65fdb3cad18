/**
 * Keras HDF5 weights (read with h5wasm) and the keras-applications ResNet50 name mapping.
 *
 * Layout written by Keras' `save_weights` (keras/engine/saving.py, save_weights_to_hdf5_group):
 * root attribute `layer_names`; one group per layer with attribute `weight_names`
 * (e.g. `res2a_branch2a/kernel:0`) and a dataset at `<layer>/<weight name>`. Files written by
 * `model.save` hold the same tree under `model_weights`. Keras already stores tfjs layouts:
 * Conv2D kernels HWIO, Dense kernels [in, out].
 *
 * keras-applications ResNet50 (keras_applications/resnet50.py, the MSRA Caffe model's names):
 * conv1 / bn_conv1, then res{stage}{block}_branch{2a,2b,2c,1} with bn{stage}{block}_branch...,
 * stages 2-5 = torchvision's layer1-4, block letters a, b, c... (Caffe's ResNet-101/152 write
 * b1, b2, ... after the first 'a'), branch1 = the projection (torchvision `downsample.0/.1`),
 * fc1000 = fc. Its bottlenecks stride on the first 1x1 (build the backbone with
 * `strideInFirst1x1`). Two differences from a torchvision-style model are folded exactly:
 * - Keras convolutions have biases. BN(conv(x) + b) uses (conv(x) + b - mean), so when the target
 *   conv has no bias the bias goes into the following BN: mean' = mean - b.
 * - Keras BN uses epsilon 1e-3 (BatchNormalization's default, used by resnet50.py); BN divides by
 *   sqrt(var + eps), so var' = var + 1e-3 - eps_model keeps the output identical.
 * Keras 1 files name BN's variance `running_std` (it always held the variance) and kernels `W`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type H5Wasm from 'h5wasm/node';
import { cut, UserError } from '../errors.ts';
import type { WeightArray, WeightFile } from './arrays.ts';
import { ReadBudget } from './budget.ts';

/** Epsilon of keras.layers.BatchNormalization, as keras-applications ResNet50 uses it. */
export const KERAS_BN_EPS = 1e-3;

/** A weight's role, from the last part of its Keras name. */
export type KerasRole = 'kernel' | 'bias' | 'gamma' | 'beta' | 'mean' | 'variance';

const ROLES: ReadonlyArray<[RegExp, KerasRole]> = [
  [/^(kernel|W)$/, 'kernel'],
  [/^(bias|b)$/, 'bias'],
  [/^gamma$/, 'gamma'],
  [/^beta$/, 'beta'],
  [/^(moving|running)_mean$/, 'mean'],
  [/^(moving_variance|running_var|running_std)$/, 'variance'],
];

/** Layers of a Keras weights file: layer name -> role -> array (Keras layout). */
export type KerasLayers = Map<string, Map<KerasRole, WeightArray>>;

function roleOf(weightName: string, layer: string, file: string): KerasRole {
  // 'res2a_branch2a/kernel:0' -> 'kernel'; Keras 1: 'conv1_W_1:0' -> 'W'
  const last = weightName.split('/').pop()!.replace(/:\d+$/, '');
  const bare = last.startsWith(`${layer}_`) ? last.slice(layer.length + 1).replace(/_\d+$/, '') : last;
  const hit = ROLES.find(([re]) => re.test(bare));
  if (!hit) throw new UserError(`${file}: ${cut(layer)}.weight_names: expected kernel, bias, gamma, beta, moving_mean or moving_variance, got '${cut(weightName)}'`);
  return hit[1];
}

function readableOrThrow(file: string): string {
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    throw new UserError(`${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return file;
}

function asStrings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.map(String) : [];
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when the bytes hold an HDF5 superblock signature (at 0, 512, 1024 or 2048, per the spec). */
export function isHdf5(bytes: Uint8Array): boolean {
  return [0, 512, 1024, 2048].some((at) => HDF5_MAGIC.every((b, i) => bytes[at + i] === b));
}

/**
 * Reads every layer's weights from a Keras HDF5 file.
 * @param file path of the .h5 file
 */
export async function readKerasH5(file: string): Promise<KerasLayers> {
  // h5wasm prints HDF5 diagnostics and fails late on a non-HDF5 file: check the signature first.
  const head = new Uint8Array(2056);
  const fd = fs.openSync(readableOrThrow(file), 'r');
  fs.readSync(fd, head, 0, head.length, 0);
  const budget = new ReadBudget(fs.fstatSync(fd).size, file);
  fs.closeSync(fd);
  if (!isHdf5(head)) throw new UserError(`${file}: cannot open as HDF5 (no HDF5 signature): expected a Keras .h5 weights file`);
  // h5wasm compiles the HDF5 library at import (several CPU seconds): load it only when a
  // Keras file is actually read, not at every CLI start.
  const mod = await import('h5wasm/node');
  const h5wasm: typeof H5Wasm = mod.default;
  await h5wasm.ready;
  const diagnostics = new Hdf5Diagnostics(mod.FS);
  try {
    return readLayers(h5wasm, file, budget);
  } catch (err) {
    if (err instanceof UserError) throw err;
    // h5wasm's own messages ("error - name not defined!") say little; HDF5's innermost one does
    throw new UserError(`${file}: cannot read as HDF5 (${diagnostics.innermost() ?? (err as Error).message})`);
  } finally {
    diagnostics.restore();
  }
}

/** The layers of an open-able Keras file; h5wasm calls are synchronous, all of them in here. */
function readLayers(h5wasm: typeof H5Wasm, file: string, budget: ReadBudget): KerasLayers {
  const h5 = new h5wasm.File(path.resolve(file), 'r');
  // a file HDF5 cannot open (truncated, corrupt) gets id -1, not an exception
  if (h5.file_id < 0n) throw new Error('cannot open it');
  try {
    const root = (h5.keys().includes('model_weights') ? h5.get('model_weights') : h5) as InstanceType<typeof h5wasm.Group>;
    const layerNames = asStrings(root.attrs.layer_names?.value);
    if (!layerNames.length) throw new UserError(`${file}: layer_names: expected the Keras weights attribute listing the layers, got none`);
    const layers: KerasLayers = new Map();
    for (const layer of layerNames) {
      const group = root.get(layer) as InstanceType<typeof h5wasm.Group> | null;
      if (!group) throw new UserError(`${file}: layer_names: names '${cut(layer)}', which has no group`);
      const weights = new Map<KerasRole, WeightArray>();
      for (const weightName of asStrings(group.attrs.weight_names?.value)) {
        const ds = group.get(weightName) as InstanceType<typeof h5wasm.Dataset> | null;
        const where = `${cut(layer)}/${cut(weightName)}`;
        // A chunked dataset can declare any shape without the chunks behind it: size it first.
        if (ds instanceof h5wasm.Dataset) budget.take((ds.shape ?? []).reduce((a, b) => a * b, 1), where);
        const value = ds?.value;
        if (!ds || !(value instanceof Float32Array || value instanceof Float64Array)) {
          throw new UserError(`${file}: ${where}: expected a float dataset, got ${ds ? String(ds.dtype) : 'nothing'}`);
        }
        weights.set(roleOf(weightName, layer, file), { shape: ds.shape ?? [], data: Float32Array.from(value), sourceDtype: value instanceof Float32Array ? 'float32' : 'float64' });
      }
      if (weights.size) layers.set(layer, weights);
    }
    return layers;
  } finally {
    h5.close();
  }
}

/** The part of Emscripten's FS that h5wasm exports and this file uses. */
interface EmscriptenFs {
  getStream(fd: number): { nfd?: unknown } | null;
}

/**
 * The HDF5 library prints its error stack (dozens of lines per failure) straight to file
 * descriptor 2. While an instance is alive, Emscripten's stream 2 of h5wasm writes to a
 * temporary file instead (its `nfd`, the Node descriptor behind it, is swapped), so the CLI keeps
 * its one error line and the innermost HDF5 message ("truncated file: eof = 3000, ...") goes
 * into it. Without that stream (another h5wasm build), diagnostics print as before.
 */
class Hdf5Diagnostics {
  private stream: { nfd?: unknown } | null = null;
  private saved: unknown;
  private fd = -1;
  private readonly dir: string;

  constructor(FS: unknown) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-hdf5-'));
    const stream = (FS as EmscriptenFs | null)?.getStream?.(2);
    if (stream && typeof stream.nfd === 'number') {
      this.fd = fs.openSync(path.join(this.dir, 'stderr'), 'w+');
      this.stream = stream;
      this.saved = stream.nfd;
      stream.nfd = this.fd;
    }
  }

  /** The last (innermost) message of the error stacks HDF5 printed, if any. */
  innermost(): string | undefined {
    if (this.fd < 0) return undefined;
    const text = fs.readFileSync(path.join(this.dir, 'stderr'), 'utf8');
    // the first stack is the failure (later ones follow from it); its last entry is the cause
    const first = text.split(/^HDF5-DIAG: /m).find((t) => t.trim()) ?? '';
    return [...first.matchAll(/^\s*#\d+: .* in [\w.]+\(\): (.*)$/gm)].at(-1)?.[1].trim();
  }

  /** Puts stream 2 back and removes the temporary file. */
  restore(): void {
    if (this.stream) this.stream.nfd = this.saved;
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.stream = null;
    this.fd = -1;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** resdet module names for one keras-applications ResNet layer, or undefined if unknown. */
export function kerasResNetName(layer: string): { module: string; kind: 'conv' | 'bn' | 'fc' } | undefined {
  if (layer === 'conv1') return { module: 'conv1', kind: 'conv' };
  if (layer === 'bn_conv1') return { module: 'bn1', kind: 'bn' };
  if (layer === 'fc1000') return { module: 'fc', kind: 'fc' };
  const m = /^(res|bn)(\d)([a-z])(\d*)_branch(2a|2b|2c|1)$/.exec(layer);
  if (!m) return undefined;
  const [, type, stage, letter, num, branch] = m;
  // 'a' is block 0; then Keras counts b, c, d... and Caffe's deep nets b1, b2, ...
  const block = num ? Number(num) : letter.charCodeAt(0) - 97;
  const prefix = `layer${Number(stage) - 1}.${block}`;
  if (branch === '1') return { module: `${prefix}.downsample.${type === 'res' ? 0 : 1}`, kind: type === 'res' ? 'conv' : 'bn' };
  const k = { '2a': 1, '2b': 2, '2c': 3 }[branch];
  return { module: `${prefix}.${type === 'res' ? 'conv' : 'bn'}${k}`, kind: type === 'res' ? 'conv' : 'bn' };
}

/** The BN module that follows a conv module in resdet's ResNets. */
function bnAfter(conv: string): string {
  if (conv === 'conv1') return 'bn1';
  if (conv.endsWith('downsample.0')) return `${conv.slice(0, -1)}1`;
  return conv.replace(/conv(\d)$/, 'bn$1');
}

/** What the mapping needs to know about the target model. */
export interface KerasTarget {
  /** true when the model has a slot of this name (e.g. `conv1.bias`) */
  has(name: string): boolean;
  /** epsilon of the model's BN module of this name */
  bnEps(module: string): number;
}

/**
 * Maps keras-applications ResNet layers onto resdet/torchvision state names, in tfjs layout,
 * folding conv biases and the BN epsilon difference (see the file comment).
 * @param kerasEps the file's BN epsilon (1e-3 for keras-applications ResNet50)
 */
export function mapKerasResNet(layers: KerasLayers, file: string, target: KerasTarget, kerasEps = KERAS_BN_EPS): WeightFile {
  const out = new Map<string, WeightArray>();
  const biases = new Map<string, WeightArray>();
  const bnNames: Record<string, KerasRole> = { weight: 'gamma', bias: 'beta', running_mean: 'mean', running_var: 'variance' };
  for (const [layer, weights] of layers) {
    const mapped = kerasResNetName(layer);
    // Unknown layers keep their Keras names, so importWeights reports them as unexpected keys.
    const module = mapped?.module ?? layer;
    const get = (role: KerasRole): WeightArray => {
      const w = weights.get(role);
      if (!w) throw new UserError(`${file}: ${layer}: expected a ${role} weight, got [${[...weights.keys()].join(', ')}]`);
      return w;
    };
    if (mapped?.kind === 'bn') {
      for (const [name, role] of Object.entries(bnNames)) out.set(`${module}.${name}`, { ...get(role) });
      const variance = out.get(`${module}.running_var`)!;
      const eps = target.bnEps(module);
      variance.data = variance.data.map((v) => v + kerasEps - eps);
      continue;
    }
    for (const [role, w] of weights) {
      if (role === 'kernel') out.set(`${module}.weight`, w);
      else if (role === 'bias' && mapped?.kind === 'conv' && !target.has(`${module}.bias`)) biases.set(module, w);
      else out.set(`${module}.${role === 'bias' ? 'bias' : role}`, w);
    }
  }
  for (const [conv, bias] of biases) {
    const mean = out.get(`${bnAfter(conv)}.running_mean`);
    if (!mean) throw new UserError(`${file}: ${conv}: the model's conv has no bias and no BN follows it in the file to fold the bias into`);
    mean.data = mean.data.map((m, i) => m - bias.data[i]);
  }
  return { tensors: out, layout: 'tfjs' };
}
