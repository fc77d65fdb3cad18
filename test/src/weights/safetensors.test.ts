import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeSafetensors, readSafetensors, readSafetensorsHeader, writeSafetensors } from '../../../src/weights/safetensors.ts';

/** A safetensors file from a header object and raw data bytes. */
function build(header: object, data: number[]): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(BigInt(json.length));
  json.copy(out, 8);
  Buffer.from(data).copy(out, 8 + json.length);
  return new Uint8Array(out);
}

describe('weights/safetensors', () => {
  it('round-trips float32 arrays through a file, with metadata', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resdet-st-'));
    const file = path.join(dir, 'w.safetensors');
    const tensors = new Map([
      ['a.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, -7]) }],
      ['b', { shape: [], data: Float32Array.from([42]) }],
    ]);
    writeSafetensors(file, tensors, { note: 'x' });
    const bytes = new Uint8Array(fs.readFileSync(file));
    assert.equal(Number(Buffer.from(bytes).readBigUInt64LE(0)) % 8, 0); // header padded to 8
    const back = readSafetensors(bytes, file);
    assert.equal(back.layout, 'torch');
    assert.deepEqual([...back.tensors.keys()], ['a.weight', 'b']);
    assert.deepEqual(back.tensors.get('a.weight')!.shape, [2, 3]);
    assert.deepEqual([...back.tensors.get('a.weight')!.data], [...tensors.get('a.weight')!.data]);
    assert.deepEqual([...back.tensors.get('b')!.data], [42]);
    fs.rmSync(dir, { recursive: true });
  });

  it('decodes F16, BF16, F64 and I64 (hand-made bytes)', () => {
    const file = build({
      h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, // 0x3c00 = 1, 0xc100 = -2.5
      b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] }, // 0x4049 = top half of 3.140625
      d: { dtype: 'F64', shape: [1], data_offsets: [6, 14] }, // 0.5 = 0x3fe0000000000000
      i: { dtype: 'I64', shape: [1], data_offsets: [14, 22] }, // -3
    }, [0x00, 0x3c, 0x00, 0xc1, 0x49, 0x40, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const { tensors } = readSafetensors(file, 'x.safetensors');
    assert.deepEqual([...tensors.get('h')!.data], [1, -2.5]);
    assert.deepEqual([...tensors.get('b')!.data], [3.140625]);
    assert.deepEqual([...tensors.get('d')!.data], [0.5]);
    assert.deepEqual([...tensors.get('i')!.data], [-3]);
    assert.equal(tensors.get('h')!.sourceDtype, 'float16');
  });

  it('validates offsets and sizes against the file, naming the tensor', () => {
    const ok = { t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    assert.throws(() => readSafetensors(build(ok, [0, 0, 0, 0]), 'cut.st'), /cut\.st: tensors\["t"\]\.data_offsets: expected to end within the 4 data bytes, got 8/);
    assert.throws(() => readSafetensors(build({ t: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Array(8).fill(0)), 'n.st'), /n\.st: tensors\["t"\]\.data_offsets: expected 12 bytes for F32 \[3\]/);
    assert.throws(() => readSafetensors(build({ t: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, [0]), 'q.st'), /q\.st: tensors\["t"\]\.dtype: expected one of F32/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 1000n, true);
    assert.throws(() => readSafetensors(huge, 'h.st'), /h\.st: header length: expected at most 8 bytes, got 1000/);
  });

  it('reads resdet trainer checkpoints as tfjs layouts, keeping only model.* tensors', () => {
    const bytes = encodeSafetensors(new Map([
      ['model.fc.weight', { shape: [2, 1], data: Float32Array.from([1, 2]) }],
      ['optimizer.momentum.fc.weight', { shape: [2, 1], data: Float32Array.from([0, 0]) }],
    ]), { format: 'resdet-checkpoint', version: '1', state: '{"step":0}' });
    const w = readSafetensors(bytes, 'ckpt.safetensors');
    assert.equal(w.layout, 'tfjs');
    assert.deepEqual([...w.tensors.keys()], ['fc.weight']);
  });
  it('writes int32 arrays as I32 and reads them back with the exact bytes', () => {
    const bytes = encodeSafetensors(new Map([
      ['f', { shape: [1], data: Float32Array.from([-1.5]) }],
      ['i', { shape: [2], data: Int32Array.from([-3, 2 ** 31 - 1]) }],
    ]));
    const { entries, dataStart } = readSafetensorsHeader(bytes, 'i.st', { contiguous: true });
    assert.deepEqual(entries.map((e) => [e.name, e.dtype, e.begin, e.end]), [['f', 'float32', 0, 4], ['i', 'int32', 4, 12]]);
    const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart);
    assert.equal(view.getFloat32(0, true), -1.5);
    assert.equal(view.getInt32(4, true), -3);
    assert.equal(view.getInt32(8, true), 2147483647);
  });

  it('refuses overlapping ranges, deep header JSON and non-string metadata (hostile headers)', () => {
    // tensors sharing one range: a 60-byte header entry per tensor could read the same megabytes again and again
    const shared = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`t${i}`, { dtype: 'F32', shape: [1], data_offsets: [0, 4] }]));
    assert.throws(() => readSafetensors(build(shared, [0, 0, 0, 0]), 'o.st'), /^UserError: o\.st: tensors\["t1"\]\.data_offsets: expected a range that no other tensor uses, got \[0, 4\] overlapping "t0"'s \[0, 4\]$/);
    // empty tensors use no bytes and may sit anywhere
    assert.equal(readSafetensors(build({ e: { dtype: 'F32', shape: [0], data_offsets: [0, 0] }, t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), 'e.st').tensors.size, 2);
    const json = Buffer.from(`{"t": ${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    const deep = Buffer.alloc(8 + json.length);
    deep.writeBigUInt64LE(BigInt(json.length));
    json.copy(deep, 8);
    assert.throws(() => readSafetensors(new Uint8Array(deep), 'd.st'), /^UserError: d\.st: header: JSON nested more than 1000 levels deep \(at line 1 column 1006\)/);
    assert.throws(() => readSafetensors(build({ __metadata__: { format: [1] } }, []), 'm.st'), /m\.st: header\.__metadata__: expected an object of strings, got \{"format":\[1\]\}/);
  });

  it('contiguous: refuses gaps and trailing bytes that a plain read accepts', () => {
    // two F32 scalars: the back-to-back layout is t [0, 4], u [4, 8]
    const gap = build({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, u: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, new Array(12).fill(0));
    assert.equal(readSafetensorsHeader(gap, 'g.st').entries.length, 2);
    assert.throws(() => readSafetensorsHeader(gap, 'g.st', { contiguous: true }), /g\.st: tensors\["u"\]\.data_offsets: expected \[4, 8\] for shape \[1\], got \[8,12\]/);
    const trailing = build({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Array(6).fill(0));
    assert.throws(() => readSafetensorsHeader(trailing, 't.st', { contiguous: true }), /t\.st: data: expected 4 bytes after the header, got 6/);
    assert.throws(() => readSafetensorsHeader(trailing, 't.st', { dtypes: ['I32'] }), /t\.st: tensors\["t"\]\.dtype: expected one of I32, got "F32"/);
    assert.throws(() => readSafetensorsHeader(new Uint8Array(3), 's.st', { expected: 'a resdet checkpoint' }), /s\.st: expected a resdet checkpoint, got 3 bytes/);
  });
});
