/**
 * How the `resdet` CLI words a failure: every error, whatever threw it (resdet's own UserErrors,
 * commander's usage errors, sharp's and libvips's multi-line messages, a data-parallel worker's
 * exception, a wasm abort), becomes one line `resdet: error: ...` (tools/cli.ts prints it and
 * exits with status 1). The stack is for `--verbose` / `RESDET_DEBUG=1` only.
 */
import { CommanderError, type Command } from 'commander';
import { oneLine, OptionError, UserError } from '../src/errors.ts';
import { flagName } from './flags.ts';

/** Commander's codes for help and version output: printed already, not errors. */
const HELP_CODES = new Set(['commander.help', 'commander.helpDisplayed', 'commander.version']);

/** True for a CommanderError that only ends a `--help` / `--version` display. */
export function isHelpExit(err: unknown): boolean {
  return err instanceof CommanderError && HELP_CODES.has(err.code);
}

/** A commander error tagged by tools/cli.ts with the command whose parse failed. */
export interface TaggedCommanderError extends CommanderError {
  command?: Command;
}

/** `resdet eval coco` for the command `coco` under `eval`. */
function commandPath(cmd: Command | undefined): string {
  const names: string[] = [];
  for (let c = cmd; c; c = c.parent ?? undefined) names.unshift(c.name());
  return names.join(' ') || 'resdet';
}

/**
 * Commander's message without its `error: ` prefix, with a pointer to the command's help. A flag
 * parser's own message replaces commander's preamble when it names the flag already:
 * `--batch-size: expected a positive integer, got "abc"` rather than
 * `option '--batch-size <n>' argument 'abc' is invalid. --batch-size: expected ...`.
 */
function commanderMessage(err: TaggedCommanderError): string {
  let msg = err.message.replace(/^error: /, '');
  const invalid = /^option '(-[^\s',]+)[^']*' argument '[^]*' is invalid\. (--?[\w-]+: [^]*)$/.exec(msg);
  if (invalid && invalid[2].startsWith(`${invalid[1]}:`)) msg = invalid[2];
  return `${msg} (see ${commandPath(err.command)} --help)`;
}

/** What a wasm abort looks like: Emscripten's `Aborted(...)`, or a kernel's access past the heap. */
const WASM_ABORT = /^(Aborted\(|memory access out of bounds|Cannot enlarge memory|Out of memory|OOM)/i;

/** What the process knew about the wasm heap when the error was caught. */
export interface WasmHeap {
  /** bytes the wasm backend's heap had grown to */
  bytes: number;
  /** its limit (4 GiB for wasm32) */
  limit: number;
  /** a backend to suggest instead, when one is registered */
  nativeBackend?: string;
}

/**
 * The wasm heap limit minus this is treated as full: an allocation that does not fit aborts
 * while the heap is a little short of the limit (docs/performance.md's aborts were at 3765 to 4352 MB).
 */
const HEAP_NEARLY_FULL = 512 * 2 ** 20;

/**
 * True for an error from the wasm backend running out of memory: a WebAssembly.RuntimeError
 * whose message is an abort (or an access past the heap) while the heap was nearly full, or any
 * abort that says OOM / "Cannot enlarge memory" itself.
 */
export function isWasmOutOfMemory(err: unknown, heap?: WasmHeap): boolean {
  if (!(err instanceof Error) || !(err instanceof WebAssembly.RuntimeError || err.name === 'RuntimeError')) return false;
  if (!WASM_ABORT.test(err.message)) return false;
  if (/OOM|enlarge memory|out of memory/i.test(err.message)) return true;
  return heap !== undefined && heap.bytes >= heap.limit - HEAP_NEARLY_FULL;
}

/** JavaScript's and WebAssembly's own error classes: their name tells what kind of bug it is. */
const BUILTIN_ERRORS = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'EvalError', 'URIError', 'AggregateError', 'RuntimeError', 'CompileError', 'LinkError']);

/** The backend to suggest when wasm runs out of memory. */
function nativeHint(heap?: WasmHeap): string {
  return heap?.nativeBackend
    ? `the native backend (RESDET_BACKEND=${heap.nativeBackend})`
    : 'a native backend (npm install @tensorflow/tfjs-node, then RESDET_BACKEND=tensorflow)';
}

/**
 * The one line (after `resdet: error: `) that reports `err`.
 * @param heap the wasm heap when the error was caught, if the wasm backend was in use
 */
export function formatError(err: unknown, heap?: WasmHeap): string {
  if (err instanceof CommanderError) return oneLine(commanderMessage(err));
  // the library names options by field, the CLI by flag
  if (err instanceof OptionError) return oneLine(err.renamed(flagName).message);
  if (err instanceof UserError) return oneLine(err.message);
  if (isWasmOutOfMemory(err, heap)) {
    const size = heap ? `: its heap reached ${Math.round(heap.bytes / 2 ** 20)} MB of the ${Math.round(heap.limit / 2 ** 20)} MB that wasm32 can address` : '';
    return oneLine(`out of memory in the wasm backend${size} (${(err as Error).message.split('\n')[0]}); use ${nativeHint(heap)}, or a smaller --min-size or --batch-size`);
  }
  const worker = err instanceof Error && err.name === 'DataParallelError' ? /^(data-parallel worker \d+): ([^]*)$/.exec(err.message) : null;
  if (worker && WASM_ABORT.test(worker[2])) {
    // a worker's heap is not visible from here: say what is most likely
    return oneLine(`the wasm backend of ${worker[1]} aborted (${worker[2].split('\n')[0]}), most likely out of memory; use ${nativeHint(heap)}, fewer --workers, or a smaller --min-size or --batch-size`);
  }
  if (err instanceof Error) {
    // sharp's, Node's and the workers' errors speak for themselves; a TypeError or RangeError is
    // a bug in resdet (or a library) and says so by its name
    const name = BUILTIN_ERRORS.has(err.name) ? `${err.name}: ` : '';
    return oneLine(`${name}${err.message}`);
  }
  return oneLine(String(err));
}

/**
 * The stack (and a data-parallel worker's own stack) printed under the line with `--verbose`
 * or `RESDET_DEBUG=1`; empty for commander errors, which have no useful stack.
 */
export function errorDetails(err: unknown): string {
  if (err instanceof CommanderError || !(err instanceof Error)) return '';
  const e = err instanceof OptionError ? err.renamed(flagName) : err;
  const worker = (err as { workerStack?: unknown }).workerStack;
  return `${e.stack ?? ''}${typeof worker === 'string' ? `\nin the worker: ${worker}` : ''}\n`;
}

/**
 * True when the stack is wanted: `--verbose` among the arguments (before a `--`), or
 * `RESDET_DEBUG` set to anything but '' or '0'.
 */
export function debugWanted(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const end = argv.indexOf('--');
  if ((end < 0 ? argv : argv.slice(0, end)).includes('--verbose')) return true;
  const d = env.RESDET_DEBUG;
  return d !== undefined && d !== '' && d !== '0';
}
