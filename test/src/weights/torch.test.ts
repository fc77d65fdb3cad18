import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, SHARED_DATA } from '../../helpers/cli.ts';
import { makeZip, torchZip } from '../../helpers/hostile-weights.ts';
import { requireShared } from '../../helpers/shared.ts';
import { MAX_BYTES_PER_FILE_BYTE } from '../../../src/weights/budget.ts';
import { readTorchCheckpoint } from '../../../src/weights/torch.ts';
import { MAX_INFLATE_RATIO, ZipArchive } from '../../../src/weights/zip.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/weights');
const read = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(FIXTURES, name)));
/** Dense values written by make_fixtures.py with torch's own `.contiguous()`. */
const EXPECTED = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'tiny-expected.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;

function assertMatchesExpected(file: string): void {
  const { tensors, layout } = readTorchCheckpoint(read(file), file);
  assert.equal(layout, 'torch');
  assert.deepEqual([...tensors.keys()], Object.keys(EXPECTED));
  for (const [name, want] of Object.entries(EXPECTED)) {
    const got = tensors.get(name)!;
    assert.deepEqual(got.shape, want.shape, name);
    // Each value is torch's, rounded once to float32 (float64 1/3 rounds; 1e-300 underflows to 0).
    assert.deepEqual([...got.data], want.values.map(Math.fround), name);
  }
  // Hand-checked values: base = arange(12)/8; transposed = base[:6].view(2,3).t() -> [[0,3],[1,4],[2,5]]/8
  assert.deepEqual([...tensors.get('transposed')!.data], [0, 3, 1, 4, 2, 5].map((v) => v / 8));
  assert.deepEqual([...tensors.get('offset_view')!.data], [5, 6, 7, 8].map((v) => v / 8));
  assert.deepEqual([...tensors.get('strided')!.data], [0, 2, 4, 6, 8, 10].map((v) => v / 8));
  assert.deepEqual([...tensors.get('half')!.data], [1, -2.5, 0.00010001659393310547, 65504]); // 1e-4 rounded to half
  assert.deepEqual([...tensors.get('bf16')!.data], [1, -3.140625, 0.00099945068359375]); // 1e-3 to bfloat16's 8-bit mantissa
  assert.equal(tensors.get('bn.num_batches_tracked')!.data[0], 7);
}

describe('weights/torch', () => {
  it('reads the zip format (torch >= 1.6) under a {"model": ...} wrapper: dtypes, views, offsets', () => {
    assertMatchesExpected('tiny-zip.pt');
  });

  it('reads the legacy format under a {"state_dict", "best_prec1"} wrapper', () => {
    assertMatchesExpected('tiny-legacy.pt');
  });

  it('reads a zip whose entries are deflated, and checks entry bounds', () => {
    const zip = new ZipArchive(read('tiny-zip.pt'), 'tiny-zip.pt');
    const files = [...zip.entries.keys()].map((name) => ({ name, data: zip.read(name).slice(), deflate: true }));
    const rezipped = makeZip(files);
    const { tensors } = readTorchCheckpoint(rezipped, 'deflated.pt');
    assert.deepEqual([...tensors.get('offset_view')!.data], [5, 6, 7, 8].map((v) => v / 8));
    // Cut the file inside the central directory: the EOCD is gone.
    assert.throws(() => readTorchCheckpoint(rezipped.subarray(0, rezipped.length - 30), 'cut.pt'), /cut\.pt: zip: no end-of-central-directory record/);
  });

  it('rejects a torch.save of an object whose pickle calls posix.system', () => {
    assert.throws(() => readTorchCheckpoint(read('evil-zip.pt'), 'evil-zip.pt'), /evil-zip\.pt: refusing pickle global 'posix\.system'/);
  });

  it('names the file for non-checkpoints and truncated legacy files', () => {
    assert.throws(() => readTorchCheckpoint(new TextEncoder().encode('hello'), 'a.txt'), /a\.txt: not a PyTorch checkpoint/);
    const legacy = read('tiny-legacy.pt');
    assert.throws(() => readTorchCheckpoint(legacy.subarray(0, legacy.length - 4), 'cut.pt'), /cut\.pt: storage '\d+' at byte \d+: expected \d+ elements inside the file/);
  });

  it('reads a hand-made checkpoint: a transposed view and a stride-0 view no larger than its storage', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    const zip = torchZip([
      { name: 't', key: '0', numel: 6, offset: 0, shape: [3, 2], stride: [1, 3] }, // [[1,4],[2,5],[3,6]]
      { name: 'e', key: '0', numel: 6, offset: 1, shape: [2, 3], stride: [0, 1] }, // [2,3,4] twice
    ], { 0: data });
    const { tensors } = readTorchCheckpoint(zip, 'h.pt');
    assert.deepEqual([...tensors.get('t')!.data], [1, 4, 2, 5, 3, 6]);
    assert.deepEqual([...tensors.get('e')!.data], [2, 3, 4, 2, 3, 4]);
  });

  it('refuses a view larger than its storage before allocating it (a stride-0 view of 10^9 elements over 1)', () => {
    const zip = torchZip([{ name: 'w', key: '0', numel: 1, offset: 0, shape: [1000, 1000, 1000], stride: [0, 0, 0] }]);
    const before = process.memoryUsage().arrayBuffers;
    assert.throws(() => readTorchCheckpoint(zip, 'z.pt'), /^UserError: z\.pt: w: shape \[1000,1000,1000\] stride \[0,0,0\] offset 0: declares 1000000000 elements, its storage holds 1$/);
    // it used to allocate the 4 GB before failing: allow any noise, not a gigabyte
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 2 ** 20);
    assert.throws(() => readTorchCheckpoint(torchZip([{ name: 'w', key: '0', numel: 4, offset: 3, shape: [2], stride: [1] }]), 'o.pt'), /o\.pt: w: shape \[2\] stride \[1\] offset 3: reaches element 4, its storage has 4$/);
    assert.throws(() => readTorchCheckpoint(torchZip([{ name: 'w', key: '0', numel: 1, offset: -1, shape: [1], stride: [1] }]), 'n.pt'), /n\.pt: pickle at byte \d+: _rebuild_tensor_v2: expected a non-negative int storage offset, got -1/);
    assert.throws(() => readTorchCheckpoint(torchZip([{ name: 'w', key: '0', numel: 1, offset: 0, shape: new Array(65).fill(1), stride: new Array(65).fill(1) }]), 'd.pt'), /d\.pt: pickle at byte \d+: _rebuild_tensor_v2: expected at most 64 dimensions, got 65/);
  });

  it('refuses storages shared by so many views that the arrays outgrow the file', () => {
    // 400 views of one 4096-element storage: 16 KB of data declared as 6.5 MB of arrays
    const views = Array.from({ length: 400 }, (_, i) => ({ name: `w${i}`, key: '0', numel: 4096, offset: 0, shape: [4096], stride: [1] }));
    const zip = torchZip(views);
    const err = new RegExp(`^UserError: s\\.pt: w\\d+: the arrays read so far need \\d+ bytes, more than ${MAX_BYTES_PER_FILE_BYTE} per byte of this ${zip.length}-byte file`);
    assert.throws(() => readTorchCheckpoint(zip, 's.pt'), err);
    // two views of one storage (tied weights) are fine
    assert.equal(readTorchCheckpoint(torchZip(views.slice(0, 2)), 'tied.pt').tensors.size, 2);
  });

  it('refuses deflated entries that inflate past MAX_INFLATE_RATIO times the archive, and corrupt deflate data', () => {
    // 8 MB of zeros deflates to about 8 KB: a thousandfold, where weights shrink by a few percent
    const bomb = makeZip([{ name: 'archive/data.pkl', data: new Uint8Array(8 * 2 ** 20), deflate: true }]);
    const zip = new ZipArchive(bomb, 'bomb.pt');
    assert.throws(() => zip.read('archive/data.pkl'), new RegExp(`^UserError: bomb\\.pt: zip: entry 'archive/data\\.pkl': inflating it would make 8388608 bytes, more than ${MAX_INFLATE_RATIO} times this ${bomb.length}-byte archive`));
    const ok = makeZip([{ name: 'a', data: new Uint8Array(1000).fill(7), deflate: true }]);
    // flip bits inside the deflate stream (after the 30-byte local header and the 1-byte name)
    const corrupt = ok.slice();
    for (let i = 31; i < 36; i++) corrupt[i] ^= 0xff;
    assert.throws(() => new ZipArchive(corrupt, 'c.pt').read('a'), /^UserError: c\.pt: zip: entry 'a': (cannot inflate it|inflated \d+ bytes)/);
  });

  it('loads the real akamaster CIFAR ResNet-20 and ResNet-32 (legacy format)', function () {
    const dir = path.join(SHARED_DATA, 'cifar10-resnet');
    requireShared(this, dir);
    for (const [name, params, blocks] of [['resnet20-12fca82f.th', 269722, 3], ['resnet32-d509ac18.th', 464154, 5]] as const) {
      const { tensors } = readTorchCheckpoint(new Uint8Array(fs.readFileSync(path.join(dir, name))), name);
      const isParam = (k: string): boolean => !/running_(mean|var)$/.test(k);
      const count = [...tensors].filter(([k]) => isParam(k)).reduce((n, [, t]) => n + t.data.length, 0);
      assert.equal(count, params, name); // the data README's parameter counts
      assert.deepEqual(tensors.get('module.conv1.weight')!.shape, [16, 3, 3, 3]);
      assert.deepEqual(tensors.get(`module.layer3.${blocks - 1}.conv2.weight`)!.shape, [64, 64, 3, 3]);
      assert.deepEqual(tensors.get('module.linear.weight')!.shape, [10, 64]);
    }
  });
});
