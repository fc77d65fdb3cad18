import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/index.ts';
import { BatchNorm2d, Conv2d, Linear } from '../../../src/nn/layers.ts';
import { Module, Sequential } from '../../../src/nn/module.ts';
import { Rng } from '../../../src/random.ts';
import { importWeights } from '../../../src/weights/import.ts';
import { kerasResNetName, readKerasH5 } from '../../../src/weights/keras-h5.ts';
import { REPO_ROOT } from '../../helpers/cli.ts';
import { sparseKerasH5 } from '../../helpers/hostile-weights.ts';
import { tmpDir } from '../../helpers/tmp.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/weights');
const H5 = path.join(FIXTURES, 'tiny-keras.h5');
const REF = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'tiny-keras.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;
const f32 = (name: string): number[] => REF[name].values.map(Math.fround);

/** A module holding the given children (to spell torchvision's nesting in a test). */
class Holder extends Module {
  constructor(children: Array<[string, Module]>) {
    super();
    for (const [name, m] of children) this.child(name, m);
  }
}

/** The slots of a torchvision-named ResNet that tiny-keras.h5 fills; convs have no bias. */
function skeleton(): Module {
  const rng = new Rng(0);
  return new Holder([
    ['conv1', new Conv2d(3, 2, 7, { stride: 2, padding: 3 }, rng)],
    ['bn1', new BatchNorm2d(2)],
    ['layer1', new Holder([['0', new Holder([['conv1', new Conv2d(2, 3, 1, {}, rng)], ['bn1', new BatchNorm2d(3)]])]])],
    ['layer2', new Holder([['1', new Holder([['downsample', new Sequential([new Conv2d(2, 3, 1, { stride: 2 }, rng), new BatchNorm2d(3)])]])]])],
    ['fc', new Linear(2, 4, rng)],
  ]);
}

describe('weights/keras-h5', () => {
  before(async () => {
    await initBackend();
  });

  it('maps keras-applications ResNet50 layer names onto torchvision names', () => {
    assert.deepEqual(kerasResNetName('conv1'), { module: 'conv1', kind: 'conv' });
    assert.deepEqual(kerasResNetName('bn_conv1'), { module: 'bn1', kind: 'bn' });
    assert.deepEqual(kerasResNetName('res2a_branch2a'), { module: 'layer1.0.conv1', kind: 'conv' });
    assert.deepEqual(kerasResNetName('bn3d_branch2c'), { module: 'layer2.3.bn3', kind: 'bn' });
    assert.deepEqual(kerasResNetName('res5a_branch1'), { module: 'layer4.0.downsample.0', kind: 'conv' });
    assert.deepEqual(kerasResNetName('bn4a_branch1'), { module: 'layer3.0.downsample.1', kind: 'bn' });
    assert.deepEqual(kerasResNetName('res4b22_branch2b'), { module: 'layer3.22.conv2', kind: 'conv' }); // Caffe ResNet-101
    assert.deepEqual(kerasResNetName('fc1000'), { module: 'fc', kind: 'fc' });
    assert.equal(kerasResNetName('activation_1'), undefined);
  });

  it('reads layer_names / weight_names / datasets with h5wasm (layers without weights are skipped)', async () => {
    const layers = await readKerasH5(H5);
    assert.deepEqual([...layers.keys()], ['conv1', 'bn_conv1', 'res2a_branch2a', 'bn2a_branch2a', 'res3b_branch1', 'bn3b_branch1', 'fc1000']);
    assert.deepEqual([...layers.get('bn_conv1')!.keys()], ['gamma', 'beta', 'mean', 'variance']);
    const kernel = layers.get('conv1')!.get('kernel')!;
    assert.deepEqual(kernel.shape, [7, 7, 3, 2]);
    assert.deepEqual([...kernel.data], f32('conv1/kernel:0'));
  });

  it('imports into a model: kernels as stored (HWIO), conv bias folded into BN mean, eps 1e-3 folded into var', async () => {
    const before = tf.memory().numTensors;
    const net = skeleton();
    const report = await importWeights(net, H5);
    assert.equal(report.format, 'keras');
    const sd = net.stateDict();
    const get = (n: string): number[] => [...sd.get(n)!.dataSync()];
    assert.deepEqual(get('conv1.weight'), f32('conv1/kernel:0'));
    assert.deepEqual(get('fc.weight'), f32('fc1000/kernel:0')); // Dense [in, out] = resdet's Linear layout
    assert.deepEqual(get('layer2.1.downsample.1.weight'), f32('bn3b_branch1/gamma:0'));
    // mean' = mean - conv bias;  var' = var + 1e-3 - 1e-5 (resdet BN eps is 1e-5)
    const close = (a: number[], b: number[]): void => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-6, `${v} vs ${b[i]}`));
    close(get('bn1.running_mean'), REF['bn_conv1/moving_mean:0'].values.map((m, i) => m - REF['conv1/bias:0'].values[i]));
    close(get('layer1.0.bn1.running_mean'), REF['bn2a_branch2a/moving_mean:0'].values.map((m, i) => m - REF['res2a_branch2a/bias:0'].values[i]));
    close(get('bn1.running_var'), REF['bn_conv1/moving_variance:0'].values.map((v) => v + 1e-3 - 1e-5));
    net.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('names the file for a non-HDF5 file', async () => {
    await assert.rejects(readKerasH5(path.join(FIXTURES, 'tiny-net.json')), /tiny-net\.json: cannot open as HDF5/);
  });

  it("a truncated file: one error with HDF5's own reason, not its error stack", async () => {
    const file = path.join(tmpDir('resdet-h5-'), 'cut.h5');
    fs.writeFileSync(file, fs.readFileSync(H5).subarray(0, 3000));
    await assert.rejects(readKerasH5(file), new RegExp(`^UserError: .*cut\\.h5: cannot read as HDF5 \\(truncated file: eof = 3000, sblock->base_addr = 0, stored_eof = ${fs.statSync(H5).size}\\)$`));
    // the diagnostics went to a temporary file, and stream 2 is back: a good file still reads
    assert.ok((await readKerasH5(H5)).size > 0);
  });

  it('refuses a dataset declaring more data than the file holds, before reading it', async () => {
    // 2^28 float32 (1 GB) over no written chunk: reading it took 18.7 s and 3.6 GB
    const file = path.join(tmpDir('resdet-h5-'), 'sparse.h5');
    await sparseKerasH5(file, 2 ** 28);
    const size = fs.statSync(file).size;
    await assert.rejects(readKerasH5(file), new RegExp(`^UserError: .*sparse\\.h5: conv1/kernel:0: the arrays read so far need 1073741824 bytes, more than 8 per byte of this ${size}-byte file`));
  });
});
