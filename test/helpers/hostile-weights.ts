/**
 * Weights files spelled by hand for the hardening tests: zip archives, protocol-2 pickles and
 * PyTorch zip checkpoints whose tensors declare any view (size, stride, offset) over storages of
 * any length, so a test can build a hostile file in memory in microseconds.
 */
import zlib from 'node:zlib';

/** Writes a zip by hand (local headers + central directory + EOCD), stored or deflated. */
export function makeZip(files: Array<{ name: string; data: Uint8Array; deflate?: boolean }>): Uint8Array {
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

/** Bytes from a mix of numbers (one byte each), latin1 strings and byte arrays. */
export function bytesOf(...parts: Array<number | string | Uint8Array>): Uint8Array {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    if (typeof p === 'number') chunks.push(Buffer.from([p]));
    else if (typeof p === 'string') chunks.push(Buffer.from(p, 'latin1'));
    else chunks.push(Buffer.from(p));
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Pickle opcodes for a str (BINUNICODE) and an int (BININT). */
export const str = (s: string): Uint8Array => {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(b.length);
  return bytesOf('X', len, b);
};
export const int = (n: number): Uint8Array => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return bytesOf('J', b);
};
const tuple = (items: number[]): Uint8Array => bytesOf('(', ...items.map(int), 't');

/** One tensor of {@link torchZip}: a float32 view of storage `key`. */
export interface ViewSpec {
  name: string;
  /** storage key; every view of the same key shares one storage */
  key: string;
  /** the storage's element count as its persistent id declares it */
  numel: number;
  offset: number;
  shape: number[];
  stride: number[];
}

/**
 * The pickle `torch.save(state_dict)` writes (protocol 2), for views given by hand:
 * `{name: _rebuild_tensor_v2(persistent_load(('storage', FloatStorage, key, 'cpu', numel)), offset, size, stride)}`.
 */
export function statePickle(views: ViewSpec[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const v of views) {
    parts.push(
      str(v.name),
      bytesOf('c', 'torch._utils\n_rebuild_tensor_v2\n', '('),
      bytesOf('(', str('storage'), 'c', 'torch\nFloatStorage\n', str(v.key), str('cpu'), int(v.numel), 't', 'Q'),
      int(v.offset), tuple(v.shape), tuple(v.stride),
      bytesOf('t', 'R'),
    );
  }
  return bytesOf(0x80, 2, '}', '(', ...parts, 'u', '.');
}

/**
 * A PyTorch zip checkpoint (`archive/data.pkl` + `archive/data/<key>`) of the given views.
 * @param storages float32 bytes per storage key (default: 4 * numel zero bytes)
 */
export function torchZip(views: ViewSpec[], storages: Record<string, Uint8Array> = {}): Uint8Array {
  const keys = new Map<string, number>();
  for (const v of views) keys.set(v.key, v.numel);
  return makeZip([
    { name: 'archive/data.pkl', data: statePickle(views) },
    ...[...keys].map(([key, numel]) => ({ name: `archive/data/${key}`, data: storages[key] ?? new Uint8Array(4 * numel) })),
  ]);
}

/**
 * Writes a Keras weights file (layer `conv1`, weight `kernel:0`) whose chunked dataset is resized
 * to `elements` without writing a chunk: a few KB on disk that HDF5 reads back as `elements`
 * float32 fill values.
 */
export async function sparseKerasH5(file: string, elements: number): Promise<void> {
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'w');
  try {
    f.create_attribute('layer_names', ['conv1']);
    const g = f.create_group('conv1');
    g.create_attribute('weight_names', ['kernel:0']);
    const ds = g.create_dataset({ name: 'kernel:0', data: new Float32Array(1), shape: [1], dtype: '<f', maxshape: [null], chunks: [1024] });
    ds.resize([elements]);
  } finally {
    f.close();
  }
}
