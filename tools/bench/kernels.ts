/**
 * Per-kernel profile of conv-net training steps on the wasm backend (issue 3, "Speed").
 *
 *   npm run bench:kernels [-- --stock] [--workloads cifar32,cifar128,r50] [--reps 3] [--bn moments|fused|closed]
 *
 * Workloads (self-contained op stacks, not resdet's model classes, so the numbers isolate kernels):
 * - cifarB: CIFAR ResNet-20 (He et al. Sec. 4.2: 3x3 convs, widths 16/32/64, 3 blocks per stage,
 *   option-A shortcuts) at batch B, 32x32, BN + ReLU, global average pool, 10-way softmax CE.
 * - r50: the ImageNet ResNet-50 stem (7x7/2 conv, BN, ReLU, 3x3/2 max pool) at 224x224 followed
 *   by one conv2_x bottleneck (1x1 64, 3x3 64, 1x1 256, projection) and the downsampling conv3_x
 *   bottleneck (stride 2 on the 3x3), batch 4.
 * `--stock` keeps stock wasm kernels wherever wasm has one (resdet registers only the missing
 * ones), giving the "before" numbers. Prints one JSON object with, per workload, the median
 * step's CPU and wall time, images per CPU-second and every kernel's CPU ms per step, slowest
 * first. CPU time (process.cpuUsage) rather than wall time, because this 2-core machine is shared:
 * wall time swings with other jobs, while the wasm backend computes on this process's one thread.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { ensureGradients } from '../../src/backend/gradients.ts';
import { registerWasmKernels } from '../../src/backend/kernels/index.ts';
import { batchNormTrain } from '../../src/nn/batchnorm-train.ts';
import { instrumentKernels, kernelTable, takeKernelCpu } from './kernel-cpu.ts';

interface Args { stock: boolean; workloads: string[]; reps: number; bn: BnStyle }
type BnStyle = 'moments' | 'fused' | 'closed';

function parseArgs(argv: string[]): Args {
  const args: Args = { stock: false, workloads: ['cifar32', 'cifar128', 'r50'], reps: 3, bn: 'moments' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--stock') args.stock = true;
    else if (a === '--workloads') args.workloads = argv[++i].split(',');
    else if (a === '--reps') args.reps = Number(argv[++i]);
    else if (a === '--bn') {
      const style = argv[++i];
      if (style !== 'moments' && style !== 'fused' && style !== 'closed') throw new Error(`--bn: expected moments, fused or closed, got ${style}`);
      args.bn = style;
    }
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

/** A deterministic pseudo-random tensor (benchmarks need no seeded RNG, only fixed values). */
function fixed(shape: number[], scale: number): tf.Tensor {
  const n = tf.util.sizeFromShape(shape);
  return tf.tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * scale), shape);
}

class Net {
  readonly vars: tf.Variable[] = [];
  constructor(readonly bnStyle: BnStyle) {}

  conv(x: tf.Tensor4D, k: number, cout: number, stride: number, pad: 'same' | 'valid' = 'same'): tf.Tensor4D {
    return tf.conv2d(x, this.param('w', [k, k, x.shape[3], cout], Math.sqrt(2 / (k * k * cout))) as tf.Tensor4D, stride, pad);
  }

  /**
   * Training-mode batch norm: batch statistics, as moments + broadcast ops ('moments', resdet's
   * BatchNorm2d before the closed-form backward), tf.batchNorm ('fused') or src/nn's
   * batchNormTrain ('closed', customGrad with the closed-form backward).
   */
  bn(x: tf.Tensor4D): tf.Tensor4D {
    const c = x.shape[3];
    const gamma = this.param('g', [c], 0, 1);
    const beta = this.param('b', [c], 0);
    if (this.bnStyle === 'closed') return batchNormTrain(x, gamma, beta, 1e-5) as tf.Tensor4D;
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    if (this.bnStyle === 'fused') return tf.batchNorm(x, mean, variance, beta, gamma, 1e-5) as tf.Tensor4D;
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
  }

  dense(x: tf.Tensor2D, out: number): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.param('fc', [x.shape[1], out], 0.05) as tf.Tensor2D), this.param('fcb', [out], 0));
  }

  private index = 0;
  private param(name: string, shape: number[], scale: number, offset = 0): tf.Variable {
    const i = this.index++;
    if (i < this.vars.length) return this.vars[i];
    const v = tf.variable(tf.tidy(() => tf.add(fixed(shape, scale), offset)), true, `${name}${i}`);
    this.vars.push(v);
    return v;
  }

  reset(): void { this.index = 0; }
}

/** CIFAR ResNet-20: option-A shortcut = stride-2 subsample + zero channel padding. */
function cifarResnet20(net: Net, x: tf.Tensor4D): tf.Tensor2D {
  let h = tf.relu(net.bn(net.conv(x, 3, 16, 1)));
  for (const [width, firstStride] of [[16, 1], [32, 2], [64, 2]]) {
    for (let b = 0; b < 3; b++) {
      const stride = b === 0 ? firstStride : 1;
      const y = net.bn(net.conv(tf.relu(net.bn(net.conv(h, 3, width, stride))), 3, width, 1));
      let short: tf.Tensor4D = h;
      if (stride !== 1 || h.shape[3] !== width) {
        // x[:, ::2, ::2] through reshape + slice (tfjs has no gradient for StridedSlice)
        const [n, hh, ww, c] = h.shape;
        const sub = tf.reshape(tf.slice(tf.reshape(h, [n, hh / 2, 2, ww / 2, 2, c]), [0, 0, 0, 0, 0, 0], [n, hh / 2, 1, ww / 2, 1, c]), [n, hh / 2, ww / 2, c]) as tf.Tensor4D;
        const extra = width - h.shape[3];
        short = tf.pad(sub, [[0, 0], [0, 0], [0, 0], [extra / 2, extra / 2]]);
      }
      h = tf.relu(tf.add(y, short)) as tf.Tensor4D;
    }
  }
  return net.dense(tf.mean(h, [1, 2]) as tf.Tensor2D, 10);
}

/** ResNet-50 stem + one conv2_x bottleneck + the first (stride-2) conv3_x bottleneck. */
function resnet50Head(net: Net, x: tf.Tensor4D): tf.Tensor2D {
  let h = tf.maxPool(tf.relu(net.bn(net.conv(x, 7, 64, 2))), 3, 2, 'same');
  const bottleneck = (inp: tf.Tensor4D, mid: number, out: number, stride: number): tf.Tensor4D => {
    let y = tf.relu(net.bn(net.conv(inp, 1, mid, 1)));
    y = tf.relu(net.bn(net.conv(y, 3, mid, stride)));
    y = net.bn(net.conv(y, 1, out, 1));
    const short = stride !== 1 || inp.shape[3] !== out ? net.bn(net.conv(inp, 1, out, stride)) : inp;
    return tf.relu(tf.add(y, short)) as tf.Tensor4D;
  };
  h = bottleneck(h, 64, 256, 1);
  h = bottleneck(h, 128, 512, 2);
  return net.dense(tf.mean(h, [1, 2]) as tf.Tensor2D, 1000);
}

interface Workload { name: string; batch: number; size: number; classes: number; body: (net: Net, x: tf.Tensor4D) => tf.Tensor2D }

function workload(name: string): Workload {
  if (name.startsWith('cifar')) return { name, batch: Number(name.slice(5)) || 128, size: 32, classes: 10, body: cifarResnet20 };
  if (name === 'r50') return { name, batch: 4, size: 224, classes: 1000, body: resnet50Head };
  throw new Error(`unknown workload ${name}: expected cifar<batch> or r50`);
}

function step(net: Net, w: Workload, x: tf.Tensor4D, labels: tf.Tensor2D): void {
  const { value, grads } = tf.variableGrads(() => {
    net.reset();
    return tf.losses.softmaxCrossEntropy(labels, w.body(net, x)) as tf.Scalar;
  }, net.vars);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
}

function cpuMs(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

async function measure(w: Workload, args: Args): Promise<object> {
  const net = new Net(args.bn);
  const x = fixed([w.batch, w.size, w.size, 3], 1) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: w.batch }, (_, i) => i % w.classes), 'int32'), w.classes) as tf.Tensor2D;
  tf.tidy(() => w.body(net, x)); // creates the variables
  step(net, w, x, labels); // warms XNNPACK's operator caches
  const before = tf.memory().numTensors;
  const wall: number[] = [];
  const cpu: number[] = [];
  takeKernelCpu();
  for (let r = 0; r < args.reps; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    step(net, w, x, labels);
    cpu.push(cpuMs(c0));
    wall.push(performance.now() - t0);
  }
  const leaked = tf.memory().numTensors - before;
  tf.dispose([x, labels, ...net.vars]);
  const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
  const times = takeKernelCpu();
  const kernels = kernelTable(times, args.reps);
  const kernelMs = Math.round([...times.values()].reduce((t, e) => t + e.ms, 0) / args.reps);
  const stepCpuMs = Math.round(median(cpu));
  return {
    workload: w.name, batch: w.batch, stepCpuMs, stepWallMs: Math.round(median(wall)),
    imagesPerCpuSec: Math.round((w.batch / stepCpuMs) * 1e4) / 10, kernelCpuMs: kernelMs, leakedTensors: leaked, kernels,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await ensureGradients();
  await tf.setBackend('wasm');
  await tf.ready();
  registerWasmKernels({ replaceStock: !args.stock });
  instrumentKernels();
  const results = [];
  for (const name of args.workloads) results.push(await measure(workload(name), args));
  const header = { backend: tf.getBackend(), kernels: args.stock ? 'stock' : 'resdet', bn: args.bn, reps: args.reps };
  // one workload per line, so runs diff and grep well
  console.log(`{${JSON.stringify(header).slice(1, -1)},"results":[\n${results.map((r) => JSON.stringify(r)).join(',\n')}\n]}`);
}

await main();
