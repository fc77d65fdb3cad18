import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { REPO_ROOT, SHARED_DATA } from '../../helpers/cli.ts';
import { requireShared } from '../../helpers/shared.ts';
import { readTorchCheckpoint } from '../../../src/weights/torch.ts';
import { ZipArchive } from '../../../src/weights/zip.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/weights');
const read = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(FIXTURES, name)));
/** Dense values written by make_fixtures.py with torch's own `.contiguous()`. */
const EXPECTED = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'tiny-expected.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;

/** Writes a zip by hand (local headers + central directory + EOCD), stored or deflated. */
function makeZip(files: Array<{ name: string; data: Uint8Array; deflate?: boolean }>): Uint8Array {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const body = f.deflate ? zlib.deflateRawSync(f.data) : Buffer.from(f.data);
    const name = Buffer.from(f.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(f.deflate ? 8 : 0, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(f.deflate ? 8 : 0, 10);
    cd.writeUInt32LE(body.length, 20);
    cd.writeUInt32LE(f.data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    chunks.push(local, name, body);
    central.push(cd, name);
    offset += 30 + name.length + body.length;
  }
  const cdir = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(files.length, 8);
  eocd.writeUInt16LE(files.length, 10);
  eocd.writeUInt32LE(cdir.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...chunks, cdir, eocd]));
}

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
