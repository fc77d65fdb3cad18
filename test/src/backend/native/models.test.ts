/**
 * Whole models on the native backend against the wasm backend (issue 8, "Correctness"):
 * ResNet-50 logits within 1e-4 relative, and a Faster R-CNN ResNet-50 training step's losses and
 * gradients (frozen BN, RoIPool) within float tolerance. Both backends build the same seeded
 * weights (initialisation draws in JS, src/nn/layers.ts).
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { createBackbone } from '../../../../backbones/index.ts';
import { createDetector } from '../../../../detectors/index.ts';
import { registerWasmKernels } from '../../../../src/backend/kernels/index.ts';
import { fuseForInference } from '../../../../src/nn/fuse.ts';
import { requireNative, wave } from '../../../helpers/native.ts';

/** Runs `f` on each backend and returns its numbers (read back, tensors disposed). */
async function onBackends(backends: string[], f: () => number[][]): Promise<number[][][]> {
  const out: number[][][] = [];
  for (const b of backends) {
    await tf.setBackend(b);
    const before = tf.memory().numTensors;
    out.push(f());
    assert.equal(tf.memory().numTensors, before, `${b}: tensors leaked`);
  }
  return out;
}

function relDiff(a: number[], b: number[]): number {
  let scale = 0;
  let worst = 0;
  a.forEach((v, i) => {
    scale = Math.max(scale, Math.abs(v));
    worst = Math.max(worst, Math.abs(v - b[i]));
  });
  return worst / Math.max(scale, 1e-12);
}

describe('native backend: whole models against wasm', function () {
  let previous: string;
  before(async function () {
    await requireNative(this);
    previous = tf.getBackend();
    await tf.setBackend('wasm');
    registerWasmKernels();
  });
  after(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it('ResNet-50 logits (eval mode, unfolded and BN-folded with the fused residual add) within 1e-4 relative', async () => {
    const image = wave(2 * 224 * 224 * 3, 0.013);
    const [wasm, native] = await onBackends(['wasm', 'native'], () => {
      const net = createBackbone('resnet50', { numClasses: 1000, seed: 5 }).eval();
      const fast = fuseForInference(net);
      const x = tf.tensor4d(image, [2, 224, 224, 3]);
      const plain = net.forward(x);
      const folded = fast.forward(x);
      const res = [Array.from(plain.dataSync()), Array.from(folded.dataSync())];
      tf.dispose([x, plain, folded]);
      fast.dispose();
      net.dispose();
      return res;
    });
    assert.ok(relDiff(wasm[0], native[0]) < 1e-4, `unfolded: ${relDiff(wasm[0], native[0])}`);
    assert.ok(relDiff(wasm[1], native[1]) < 1e-4, `folded: ${relDiff(wasm[1], native[1])}`);
  });

  // Gradients are checked against the cpu backend (plain JS, the reference): on wasm, the RPN
  // conv's weight gradient (3x3, 1024 -> 512 channels on an 8x10 map) came out 1.1% off both cpu
  // and native at 128x160 (wasm's Conv2DBackpropFilter alone agrees with cpu on that shape; the
  // cause is elsewhere in the wasm path, not found yet). 8 RoIs here keep the cpu run short.
  it('Faster R-CNN ResNet-50 training step: the losses of wasm and cpu, the gradients of cpu', async function () {
    this.timeout(300000);
    const image = wave(1 * 64 * 96 * 3, 0.021);
    const target = { boxes: Float32Array.from([6, 8, 40, 50, 50, 20, 90, 60]), labels: Int32Array.from([1, 2]) };
    const [wasm, native, cpu] = await onBackends(['wasm', 'native', 'cpu'], () => {
      const model = createDetector('faster-rcnn-resnet50', { numClasses: 3, seed: 4, rpn: { anchorSizes: [32, 64, 128], postNmsTopNTrain: 64 }, roiHeads: { batchSizePerImage: 8 } });
      const vars = [...model.rpn.trainableVariables(), ...model.roiHeads.trainableVariables()];
      const x = tf.tensor4d(image, [1, 64, 96, 3]);
      let parts: number[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const l = model.losses(x, [target]);
        parts = [l.rpnCls, l.rpnBox, l.cls, l.box].map((t) => t.dataSync()[0]);
        return l.total;
      }, vars);
      const gradSums = vars.map((v) => tf.tidy(() => tf.sum(tf.abs(grads[v.name])).dataSync()[0]));
      const res = [[value.dataSync()[0], ...parts], gradSums];
      tf.dispose([x, value, ...Object.values(grads)]);
      model.dispose();
      return res;
    });
    assert.ok(relDiff(wasm[0], native[0]) < 1e-4, `losses ${native[0]} vs wasm ${wasm[0]}`);
    assert.ok(relDiff(cpu[0], native[0]) < 1e-4, `losses ${native[0]} vs cpu ${cpu[0]}`);
    assert.ok(relDiff(cpu[1], native[1]) < 1e-4, `gradient magnitudes ${native[1]} vs cpu ${cpu[1]}`);
  });
});
