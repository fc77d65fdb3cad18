/**
 * A weights-only unpickler: reads the subset of Python's pickle format (protocols 2-5) that
 * `torch.save` writes for a state_dict, and nothing more.
 *
 * A pickle is a program for a stack machine whose GLOBAL/REDUCE opcodes import and call any
 * Python callable, so loading an untrusted .pth with `pickle.load` runs arbitrary code. This
 * reader never calls anything: every GLOBAL must name an entry of `ALLOWED_GLOBALS` (tensor
 * rebuild helpers, storage classes, OrderedDict, torch.Size, `_codecs.encode`) and is replaced by a
 * pure TypeScript function that builds plain data; any other global (os.system, builtins.eval,
 * posix.system, ...) stops the read with a UserError naming the file and the global, before
 * anything could happen. This mirrors `torch.load(weights_only=True)`'s allow-list.
 *
 * Python values become: None -> null, bool -> boolean, int -> number (bigint beyond 2^53),
 * float -> number, str -> string, bytes -> Uint8Array, list/tuple -> array, dict/OrderedDict ->
 * Map, persistent ids -> whatever the caller's `persistentLoad` returns (torch: storages).
 *
 * Cost stays proportional to the input: every opcode reads its operands from the file and adds at
 * most one reference per byte read (APPENDS and SETITEMS move items one at a time, never as one
 * spread call, which overflows the stack past about 100,000 items), integers decode in linear
 * time, and the reader never recurses, so no nesting depth can overflow the stack. Messages quote
 * file contents cut to a readable length.
 */
import { cut, quote, UserError } from '../errors.ts';

/** A tensor as `torch._utils._rebuild_tensor_v2` describes it: a strided view of a storage. */
export interface PickledTensor {
  readonly kind: 'tensor';
  /** the value `persistentLoad` returned for the storage's persistent id */
  storage: unknown;
  /** offset into the storage, in elements */
  offset: number;
  shape: number[];
  /** strides in elements, one per dimension */
  stride: number[];
}

/** A storage class named in a persistent id, e.g. torch.FloatStorage -> 'float32'. */
export interface StorageType {
  readonly kind: 'storage-type';
  dtype: TorchDtype;
}

/** Element types of torch storages (the safetensors and numpy names differ; see dtypes.ts). */
export type TorchDtype = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** torch storage class names (`torch.<name>`) -> element type. */
export const STORAGE_TYPES: Readonly<Record<string, TorchDtype>> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** A Python dict/OrderedDict; `attrs` keeps state set by BUILD (e.g. a state_dict's `_metadata`). */
export class PyDict extends Map<unknown, unknown> {
  attrs?: unknown;
}

type Callable = (args: unknown[]) => unknown;

/** More dimensions than any tensor in a state_dict has (torch itself allows 64 at most on CUDA). */
export const MAX_TENSOR_DIMS = 64;

function asNumbers(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)) throw new Error(`${what}: expected a tuple of non-negative ints, got ${quote(v)}`);
  return v as number[];
}

function rebuildTensor(args: unknown[]): PickledTensor {
  const [storage, offset, size, stride] = args;
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw new Error(`_rebuild_tensor_v2: expected a non-negative int storage offset, got ${quote(offset)}`);
  const shape = asNumbers(size, '_rebuild_tensor_v2 size');
  const strides = asNumbers(stride, '_rebuild_tensor_v2 stride');
  if (shape.length > MAX_TENSOR_DIMS) throw new Error(`_rebuild_tensor_v2: expected at most ${MAX_TENSOR_DIMS} dimensions, got ${shape.length}`);
  if (strides.length !== shape.length) throw new Error(`_rebuild_tensor_v2: size has ${shape.length} dimensions, stride ${strides.length}`);
  return { kind: 'tensor', storage, offset: offset as number, shape, stride: strides };
}

/**
 * The only callables a pickle may name, as pure functions of their arguments. Keys are
 * `module.name` as GLOBAL / STACK_GLOBAL spell them.
 */
const ALLOWED_GLOBALS: Readonly<Record<string, Callable | StorageType>> = {
  'torch._utils._rebuild_tensor_v2': rebuildTensor,
  'torch._utils._rebuild_tensor': rebuildTensor,
  // (data, requires_grad, backward_hooks[, state]): a Parameter is its tensor for inference.
  'torch._utils._rebuild_parameter': (args) => args[0],
  'torch._utils._rebuild_parameter_with_state': (args) => args[0],
  'collections.OrderedDict': (args) => {
    const d = new PyDict();
    // OrderedDict(iterable of pairs): torch never passes one, but accept it as data.
    if (Array.isArray(args[0])) for (const pair of args[0] as unknown[][]) d.set(pair[0], pair[1]);
    return d;
  },
  'torch.Size': (args) => asNumbers(args[0] ?? [], 'torch.Size'),
  // Protocol 2 spells bytes as _codecs.encode(str, 'latin1'): rebuild the bytes, call nothing.
  '_codecs.encode': (args) => {
    const [s, enc] = args;
    if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) throw new Error('_codecs.encode: only (str, "latin1") is accepted');
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  },
  ...Object.fromEntries(Object.entries(STORAGE_TYPES).map(([name, dtype]) => [`torch.${name}`, { kind: 'storage-type', dtype } as StorageType])),
};

/** The names `ALLOWED_GLOBALS` accepts, for error messages and docs. */
export const ALLOWED_GLOBAL_NAMES: readonly string[] = Object.keys(ALLOWED_GLOBALS);

/** Options of `unpickle`. */
export interface UnpickleOptions {
  /** file name for error messages */
  file: string;
  /** resolves a persistent id (BINPERSID); torch uses it for storages */
  persistentLoad?: (pid: unknown) => unknown;
}

const TEXT = new TextDecoder('utf-8', { fatal: true });
const LATIN1 = new TextDecoder('latin1');

/**
 * Reads one pickle starting at `start`.
 * @returns the unpickled value and the offset just after its STOP opcode (legacy torch files hold
 *   several pickles back to back)
 */
export function unpickle(buf: Uint8Array, opts: UnpickleOptions, start = 0): { value: unknown; end: number } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;
  const fail = (what: string): never => {
    throw new UserError(`${opts.file}: pickle at byte ${pos}: ${what}`);
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > buf.length) fail(`truncated (needs ${n} more bytes)`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => buf[need(1)];
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const u64 = (): number => {
    const v = view.getBigUint64(need(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length beyond 2^53');
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => buf.subarray(need(n), pos);
  const line = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text line');
    const s = LATIN1.decode(buf.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const utf8 = (n: number): string => {
    const b = bytes(n);
    try {
      return TEXT.decode(b);
    } catch {
      return fail('invalid UTF-8 string');
    }
  };
  const pop = (): unknown => (stack.length > (marks.length ? marks[marks.length - 1] : 0) ? stack.pop() : fail('stack underflow'));
  const top = (): unknown => (stack.length ? stack[stack.length - 1] : fail('stack underflow'));
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) return fail('no MARK on the stack');
    return stack.splice(m);
  };
  const findGlobal = (module: string, name: string): unknown => {
    const key = `${module}.${name}`;
    if (!Object.hasOwn(ALLOWED_GLOBALS, key)) {
      throw new UserError(`${opts.file}: refusing pickle global '${cut(key)}': a weights file may only reference tensor rebuild helpers, torch storages, OrderedDict and torch.Size (nothing was executed; a whole pickled model must be re-saved as its state_dict())`);
    }
    const target = ALLOWED_GLOBALS[key];
    // Storage classes are only ever data inside persistent ids; callables are wrapped with their name.
    return typeof target === 'function' ? { kind: 'global', key, target } : target;
  };
  const call = (fn: unknown, args: unknown): unknown => {
    const g = fn as { kind?: string; key?: string; target?: unknown };
    if (g?.kind !== 'global' || typeof g.target !== 'function') fail(`REDUCE of a non-callable (${cut(String(g?.key ?? g?.kind ?? typeof fn))})`);
    if (!Array.isArray(args)) fail(`REDUCE of ${g.key} without an argument tuple`);
    try {
      return (g.target as Callable)(args as unknown[]);
    } catch (err) {
      if (err instanceof UserError) throw err;
      return fail((err as Error).message);
    }
  };
  const setItems = (dict: unknown, items: unknown[]): void => {
    if (!(dict instanceof Map)) fail('SETITEM(S) on a non-dict');
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (dict as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (list: unknown, items: unknown[]): void => {
    if (!Array.isArray(list)) fail('APPEND(S) on a non-list');
    // one at a time: push(...items) passes every item as an argument and overflows the stack
    for (const item of items) (list as unknown[]).push(item);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail('STOP with a malformed stack');
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length && marks[marks.length - 1] === stack.length) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
      case 0x8b: { // LONG4
        const n = op === 0x8a ? u8() : u32();
        const b = bytes(n);
        // little-endian two's complement; through hex, linear in n (a shift per byte is quadratic)
        let v = n === 0 ? 0n : BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x49: { // INT (text; "01"/"00" are True/False in protocol 0)
        const s = line();
        stack.push(s === '01' ? true : s === '00' ? false : Number.parseInt(s, 10));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(Number.parseInt(line().replace(/L$/, ''), 10));
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number.parseFloat(line()));
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(u64()));
        break;
      case 0x54: // BINSTRING (py2 str)
        stack.push(LATIN1.decode(bytes(view.getInt32(need(4), true))));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(LATIN1.decode(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(bytes(u64()).slice());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: { // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: { // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push([]);
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(popMark());
        break;
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        stack.push(findGlobal(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(findGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args); only OrderedDict is constructible
        const args = pop();
        const cls = pop();
        if ((cls as { key?: string })?.key !== 'collections.OrderedDict') fail(`NEWOBJ of ${cut(String((cls as { key?: string })?.key ?? 'a non-class'))}`);
        stack.push(call(cls, args));
        break;
      }
      case 0x62: { // BUILD: obj.__setstate__(state); kept as data on dicts, ignored on tensors
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.attrs = state;
        else if ((obj as PickledTensor)?.kind !== 'tensor') fail('BUILD on an object that is not a dict or tensor');
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT
        memo.set(Number.parseInt(line(), 10), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: { // GET
        const key = op === 0x68 ? u8() : op === 0x6a ? u32() : Number.parseInt(line(), 10);
        if (!memo.has(key)) fail(`memo key ${key} is unset`);
        stack.push(memo.get(key));
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('persistent id without a loader');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x50: { // PERSID (text)
        const pid = line();
        if (!opts.persistentLoad) fail('persistent id without a loader');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      default:
        // INST, OBJ, EXT*, NEWOBJ_EX, buffers...: never needed by a state_dict.
        fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')}${op >= 0x20 && op < 0x7f ? ` ('${String.fromCharCode(op)}')` : ''}`);
    }
  }
}
