import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/cli.ts';
import { bytesOf } from '../../helpers/hostile-weights.ts';
import { UserError } from '../../../src/errors.ts';
import { PyDict, unpickle } from '../../../src/weights/pickle.ts';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/weights');


describe('weights/pickle', () => {
  it('reads protocol-2 data: dict, ints, floats, strings, tuples, lists, memo', () => {
    // {'a': (1, 300, -2), 'b': [1.5, None, True], 'c': <memo 0 again>}
    const pkl = bytesOf(
      0x80, 2, '}', 'q', 0, '(',
      'X', 1, 0, 0, 0, 'a', 'K', 1, 'M', 0x2c, 0x01, 'J', 0xfe, 0xff, 0xff, 0xff, 0x87,
      'X', 1, 0, 0, 0, 'b', ']', '(', 'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 'N', 0x88, 'e',
      'X', 1, 0, 0, 0, 'c', 'h', 0,
      'u', '.',
    );
    const { value, end } = unpickle(pkl, { file: 'x.pkl' });
    assert.equal(end, pkl.length);
    const d = value as PyDict;
    assert.deepEqual(d.get('a'), [1, 300, -2]); // BININT2 0x012c = 300; BININT 0xfffffffe = -2
    assert.deepEqual(d.get('b'), [1.5, null, true]); // BINFLOAT 0x3ff8... = 1.5
    assert.equal(d.get('c'), d); // memo 0 is the dict itself
  });

  it('reads LONG1 as a number, or a bigint beyond 2^53', () => {
    // LONG1 of 2 bytes 0xff 0x7f = 32767; LONG1 of 10 bytes is torch's magic 0x1950a86a20f9469cfc6c
    assert.equal(unpickle(bytesOf(0x80, 2, 0x8a, 2, 0xff, 0x7f, '.'), { file: 'x' }).value, 32767);
    assert.equal(unpickle(bytesOf(0x80, 2, 0x8a, 1, 0xff, '.'), { file: 'x' }).value, -1);
    const magic = bytesOf(0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.');
    assert.equal(unpickle(magic, { file: 'x' }).value, 0x1950a86a20f9469cfc6cn);
  });

  it('rejects os.system (posix.system) without executing it', () => {
    const file = path.join(FIXTURES, 'evil-os-system.pkl');
    fs.rmSync('/tmp/resdet-pwned', { force: true });
    assert.throws(() => unpickle(new Uint8Array(fs.readFileSync(file)), { file }), (err: Error) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /evil-os-system\.pkl: refusing pickle global 'posix\.system'/);
      return true;
    });
    assert.equal(fs.existsSync('/tmp/resdet-pwned'), false);
  });

  it('rejects builtins.eval through GLOBAL and STACK_GLOBAL', () => {
    const viaGlobal = bytesOf(0x80, 2, 'c', 'builtins\neval\n', 'X', 2, 0, 0, 0, '42', 0x85, 'R', '.');
    assert.throws(() => unpickle(viaGlobal, { file: 'g.pkl' }), /g\.pkl: refusing pickle global 'builtins\.eval'/);
    const viaStack = bytesOf(0x80, 4, 0x8c, 8, 'builtins', 0x8c, 4, 'eval', 0x93, 0x8c, 2, '42', 0x85, 'R', '.');
    assert.throws(() => unpickle(viaStack, { file: 's.pkl' }), /s\.pkl: refusing pickle global 'builtins\.eval'/);
  });

  it('rejects REDUCE of something that is not an allowed callable', () => {
    // torch.FloatStorage is allowed as data (in persistent ids) but may not be called.
    const pkl = bytesOf(0x80, 2, 'c', 'torch\nFloatStorage\n', ')', 'R', '.');
    assert.throws(() => unpickle(pkl, { file: 'r.pkl' }), /r\.pkl: pickle at byte \d+: REDUCE of a non-callable \(storage-type\)/);
  });

  it('rejects opcodes a state_dict never uses (INST) and truncated input', () => {
    assert.throws(() => unpickle(bytesOf(0x80, 2, 'i', 'os\nsystem\n', '.'), { file: 'i.pkl' }), /unsupported opcode 0x69 \('i'\)/);
    assert.throws(() => unpickle(bytesOf(0x80, 2, 'X', 9, 0, 0, 0, 'ab'), { file: 't.pkl' }), /t\.pkl: pickle at byte 7: truncated \(needs 9 more bytes\)/);
    assert.throws(() => unpickle(bytesOf(0x80, 2, '0', '.'), { file: 'u.pkl' }), /stack underflow/);
  });

  it('builds an OrderedDict through REDUCE and keeps BUILD state as attrs', () => {
    // collections.OrderedDict() then SETITEMS {'k': 1} then BUILD {'_metadata': {}}
    const pkl = bytesOf(0x80, 2, 'c', 'collections\nOrderedDict\n', ')', 'R', '(', 'X', 1, 0, 0, 0, 'k', 'K', 1, 'u', '}', 'b', '.');
    const d = unpickle(pkl, { file: 'o.pkl' }).value as PyDict;
    assert.deepEqual([...d.entries()], [['k', 1]]);
    assert.ok(d.attrs instanceof Map);
  });

  it('costs time and memory in proportion to the file: 300,000-item APPENDS and SETITEMS, a 1 MB LONG4', () => {
    const n = 300_000;
    const k1 = bytesOf('K', 1);
    // [1, 1, ...] through one APPENDS (a push(...items) overflowed the stack here)
    const list = new Uint8Array(3 + 2 * n + 3);
    list.set(bytesOf(0x80, 2, ']', '('));
    for (let i = 0; i < n; i++) list.set(k1, 4 + 2 * i);
    list.set(bytesOf('e', '.'), 4 + 2 * n);
    assert.equal((unpickle(list.subarray(0, 4 + 2 * n + 2), { file: 'l.pkl' }).value as unknown[]).length, n);
    // {i: 1} through one SETITEMS: BININT i, BININT1 1
    const items = Buffer.alloc(7 * n);
    for (let i = 0; i < n; i++) {
      items.write('J', 7 * i, 'latin1');
      items.writeInt32LE(i, 7 * i + 1);
      items.write('K\x01', 7 * i + 5, 'latin1');
    }
    const d = unpickle(bytesOf(0x80, 2, '}', '(', items, 'u', '.'), { file: 'd.pkl' }).value as PyDict;
    assert.equal(d.size, n);
    // LONG4 of 1 MB: 0x01 then zeros, little-endian, is 1 (a shift per byte, quadratic, ran past
    // the test's time limit)
    const long = new Uint8Array(2 ** 20);
    long[0] = 1;
    assert.equal(unpickle(bytesOf(0x80, 2, 0x8b, 0, 0, 0x10, 0, long, '.'), { file: 'n.pkl' }).value, 1);
  });

  it('cuts file contents quoted in errors to a readable length', () => {
    const name = 'x'.repeat(2 ** 20);
    const err = (e: Error) => e.message.length < 400 && /g\.pkl: refusing pickle global 'mod\.x{76}\.\.\.'/.test(e.message);
    assert.throws(() => unpickle(bytesOf(0x80, 2, 'c', `mod\n${name}\n`, '.'), { file: 'g.pkl' }), err);
  });
});
