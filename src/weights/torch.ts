/**
 * Reads PyTorch checkpoints without Python, through the weights-only unpickler (pickle.ts).
 *
 * Two container formats (torch/serialization.py):
 * - zip (torch >= 1.6): `<archive>/data.pkl` is the pickled object; each storage is the entry
 *   `<archive>/data/<key>`, named by the persistent id ('storage', StorageType, key, location, numel).
 * - legacy (torch < 1.6, or `_use_new_zipfile_serialization=False`): five parts back to back:
 *   pickle(magic 0x1950a86a20f9469cfc6c), pickle(protocol 1001), pickle(sys_info), the main pickle
 *   (persistent ids ('storage', StorageType, root_key, location, numel, view_metadata)), a pickle
 *   of the storage keys, then each storage's raw bytes in that order, each prefixed with its
 *   element count as a little-endian int64.
 * The object may be a state_dict or a dict wrapping one (`{'state_dict': ..., 'best_prec1': ...}`,
 * `{'model': ...}`); tensors are strided views, gathered dense and converted to float32.
 *
 * The file is untrusted, and a few bytes of pickle can declare a tensor of any size (a 328-byte
 * file with a stride-0 view of one element as 10^9 elements once cost 3.7 GB and 22 s before its
 * error). So every view is checked against its storage before anything is allocated: it must
 * lie inside the storage and have no more elements than the storage, and all arrays together
 * (storages decoded plus tensors gathered, in float32) count against a ReadBudget (budget.ts), so
 * the memory and time a checkpoint costs stay proportional to its size.
 */
import { cut, quote, UserError } from '../errors.ts';
import { ReadBudget } from './budget.ts';
import { decodeElements, DTYPE_BYTES, gatherStrided, type WeightArray, type WeightFile } from './arrays.ts';
import { unpickle, type PickledTensor, type StorageType, type TorchDtype } from './pickle.ts';
import { isZip, ZipArchive } from './zip.ts';

/** torch.serialization.MAGIC_NUMBER */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** Keys under which training scripts commonly store the state_dict, tried in order. */
export const WRAPPER_KEYS = ['state_dict', 'model_state_dict', 'model', 'net', 'module'] as const;

/** A storage named by a persistent id; `bytes` is filled from the zip entry or the legacy tail. */
interface Storage {
  dtype: TorchDtype;
  key: string;
  numel: number;
  bytes?: Uint8Array;
  /** legacy view storages: a slice of another storage */
  view?: { root: Storage; offset: number };
  decoded?: Float32Array;
}

/** True when the bytes start like a legacy torch.save file (pickle protocol 2 + LONG1 magic). */
export function isLegacyTorch(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a;
}

function parseStoragePid(pid: unknown, file: string, legacy: boolean): { type: StorageType; key: string; numel: number; view: unknown } {
  const bad = (): never => {
    throw new UserError(`${file}: persistent id ${quote(pid)}: expected ('storage', torch.<T>Storage, key, location, numel${legacy ? ', view' : ''})`);
  };
  if (!Array.isArray(pid) || pid[0] !== 'storage') return bad();
  const [, type, key, , numel, view] = pid as [string, StorageType, unknown, unknown, unknown, unknown];
  if (type?.kind !== 'storage-type' || typeof key !== 'string' || typeof numel !== 'number') return bad();
  return { type, key, numel, view };
}

/** Checks that a storage's bytes hold its declared elements (before any is decoded). */
function checkStorage(s: Storage, file: string): void {
  if (!Number.isSafeInteger(s.numel) || s.numel < 0) throw new UserError(`${file}: storage '${cut(s.key)}': expected a non-negative element count, got ${quote(s.numel)}`);
  if (s.view) {
    checkStorage(s.view.root, file);
    if (!Number.isSafeInteger(s.view.offset) || s.view.offset < 0 || s.view.offset + s.numel > s.view.root.numel) {
      throw new UserError(`${file}: storage view '${cut(s.key)}' lies outside storage '${cut(s.view.root.key)}'`);
    }
    return;
  }
  if (!s.bytes) throw new UserError(`${file}: storage '${cut(s.key)}' has no data in the file`);
  if (s.bytes.length < s.numel * DTYPE_BYTES[s.dtype]) {
    throw new UserError(`${file}: storage '${cut(s.key)}': expected ${s.numel} ${s.dtype} elements (${s.numel * DTYPE_BYTES[s.dtype]} bytes), got ${s.bytes.length} bytes`);
  }
}

function decodeStorage(s: Storage, file: string, budget: ReadBudget): Float32Array {
  if (s.decoded) return s.decoded;
  if (s.view) {
    const root = decodeStorage(s.view.root, file, budget);
    s.decoded = root.subarray(s.view.offset, s.view.offset + s.numel);
    return s.decoded;
  }
  budget.take(s.numel, `storage '${cut(s.key)}'`);
  s.decoded = decodeElements(s.bytes!, s.dtype, 0, s.numel);
  return s.decoded;
}

/**
 * Checks a tensor's view against its storage before anything is allocated: inside the storage
 * (offset + sum((size - 1) * stride) < numel) and no more elements than the storage holds (a
 * stride-0 view could otherwise declare 10^9 elements over one).
 * @returns the tensor's element count
 */
function checkView(t: PickledTensor, storage: Storage, name: string, file: string): number {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n === 0) return 0;
  const last = t.offset + t.shape.reduce((acc, size, i) => acc + (size - 1) * t.stride[i], 0);
  const where = `${file}: ${cut(name)}: shape [${t.shape}] stride [${t.stride}] offset ${t.offset}`;
  if (last >= storage.numel) throw new UserError(`${where}: reaches element ${last}, its storage has ${storage.numel}`);
  if (n > storage.numel) throw new UserError(`${where}: declares ${n} elements, its storage holds ${storage.numel}`);
  return n;
}

function readZip(bytes: Uint8Array, file: string): unknown {
  const zip = new ZipArchive(bytes, file);
  const pkl = [...zip.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (!pkl) throw new UserError(`${file}: zip archive without '<name>/data.pkl': not a PyTorch checkpoint`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const order = zip.entries.has(`${prefix}byteorder`) ? new TextDecoder().decode(zip.read(`${prefix}byteorder`)) : 'little';
  if (order !== 'little') throw new UserError(`${file}: byteorder '${order}': only little-endian checkpoints are supported`);
  const storages = new Map<string, Storage>();
  const { value } = unpickle(zip.read(pkl), {
    file,
    persistentLoad: (pid) => {
      const { type, key, numel } = parseStoragePid(pid, file, false);
      let s = storages.get(key);
      if (!s) {
        s = { dtype: type.dtype, key, numel, bytes: zip.read(`${prefix}data/${key}`) };
        storages.set(key, s);
      }
      return s;
    },
  });
  return value;
}

function readLegacy(bytes: Uint8Array, file: string): unknown {
  let pos = 0;
  const next = (opts: Parameters<typeof unpickle>[1]): unknown => {
    const r = unpickle(bytes, opts, pos);
    pos = r.end;
    return r.value;
  };
  const magic = next({ file });
  if (magic !== LEGACY_MAGIC) throw new UserError(`${file}: expected the torch.save magic number, got ${quote(magic)}: not a PyTorch checkpoint`);
  const protocol = next({ file });
  if (protocol !== LEGACY_PROTOCOL) throw new UserError(`${file}: expected torch legacy protocol ${LEGACY_PROTOCOL}, got ${quote(protocol)}`);
  const sysInfo = next({ file });
  if (sysInfo instanceof Map && sysInfo.get('little_endian') === false) throw new UserError(`${file}: big-endian checkpoint: not supported`);
  const storages = new Map<string, Storage>();
  const value = next({
    file,
    persistentLoad: (pid) => {
      const { type, key, numel, view } = parseStoragePid(pid, file, true);
      let root = storages.get(key);
      if (!root) {
        root = { dtype: type.dtype, key, numel };
        storages.set(key, root);
      }
      if (Array.isArray(view)) {
        // (view_key, offset in elements, view_size): a slice of the root storage.
        const [viewKey, offset, viewSize] = view as [string, number, number];
        return { dtype: type.dtype, key: viewKey, numel: viewSize, view: { root, offset } } satisfies Storage;
      }
      return root;
    },
  });
  const keys = next({ file });
  if (!Array.isArray(keys)) throw new UserError(`${file}: expected the list of storage keys after the main pickle`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys as string[]) {
    const s = storages.get(key);
    if (!s) throw new UserError(`${file}: storage key '${cut(String(key))}' is not referenced by the pickle`);
    if (pos + 8 > bytes.length) throw new UserError(`${file}: storage '${cut(String(key))}': truncated at byte ${pos}`);
    const numel = Number(view.getBigInt64(pos, true));
    const size = numel * DTYPE_BYTES[s.dtype];
    if (numel !== s.numel || pos + 8 + size > bytes.length) {
      throw new UserError(`${file}: storage '${cut(String(key))}' at byte ${pos}: expected ${s.numel} elements inside the file, got ${numel} (file has ${bytes.length} bytes)`);
    }
    s.bytes = bytes.subarray(pos + 8, pos + 8 + size);
    pos += 8 + size;
  }
  return value;
}

function isTensor(v: unknown): v is PickledTensor {
  return (v as PickledTensor)?.kind === 'tensor';
}

/** Picks the state_dict out of the unpickled object (itself, or under a wrapper key). */
function findStateDict(obj: unknown, file: string): Map<unknown, unknown> {
  const hasTensors = (m: unknown): m is Map<unknown, unknown> => m instanceof Map && [...m.values()].some(isTensor);
  if (hasTensors(obj)) return obj;
  if (obj instanceof Map) {
    for (const key of WRAPPER_KEYS) if (hasTensors(obj.get(key))) return obj.get(key) as Map<unknown, unknown>;
    throw new UserError(`${file}: no state_dict found: top-level keys are ${quote([...obj.keys()], 200)}, expected tensors or one of ${WRAPPER_KEYS.join(', ')}`);
  }
  throw new UserError(`${file}: expected a state_dict (a dict of tensors), got ${Array.isArray(obj) ? 'a list' : typeof obj}`);
}

/**
 * Reads a PyTorch checkpoint (zip or legacy) into dense float32 arrays in PyTorch's layout.
 * Non-tensor entries of the state_dict are skipped.
 * @param bytes the whole file
 * @param file its name, for error messages
 */
export function readTorchCheckpoint(bytes: Uint8Array, file: string): WeightFile {
  let obj: unknown;
  if (isZip(bytes)) obj = readZip(bytes, file);
  else if (isLegacyTorch(bytes)) obj = readLegacy(bytes, file);
  else throw new UserError(`${file}: not a PyTorch checkpoint (neither a zip archive nor a legacy torch.save pickle)`);
  const tensors = new Map<string, WeightArray>();
  const budget = new ReadBudget(bytes.length, file);
  for (const [name, t] of findStateDict(obj, file)) {
    if (!isTensor(t) || typeof name !== 'string') continue;
    const storage = t.storage as Storage;
    if (!storage || typeof storage.numel !== 'number') throw new UserError(`${file}: ${cut(name)}: tensor without a storage`);
    checkStorage(storage, file);
    const n = checkView(t, storage, name, file);
    budget.take(n, name);
    const data = gatherStrided(decodeStorage(storage, file, budget), t.offset, t.shape, t.stride);
    tensors.set(name, { shape: t.shape, data, sourceDtype: storage.dtype });
  }
  return { tensors, layout: 'torch' };
}
