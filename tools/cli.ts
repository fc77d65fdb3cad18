/**
 * The `resdet` command. Each subcommand lives in tools/commands/<name>.ts and is listed in
 * tools/commands/index.ts, and ./program.ts wires them into commander; this file runs it and is the
 * one funnel for failures: whatever goes wrong (a UserError, commander's usage errors, a library's multi-line
 * message, a worker's exception, a wasm abort, an exception outside any command) is printed as
 * one line `resdet: error: ...` (see ./cli-errors.ts) with exit status 1; `--verbose` or
 * `RESDET_DEBUG=1` adds the stack.
 */
import { commandNamed } from './commands/index.ts';
import { debugWanted, errorDetails, formatError, isHelpExit, type TaggedCommanderError, type WasmHeap } from './cli-errors.ts';
import { buildProgram } from './program.ts';

/** The wasm backend's heap, when it is the backend in use (for the out-of-memory message). */
async function wasmHeap(): Promise<WasmHeap | undefined> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    if (tf.getBackend() !== 'wasm') return undefined;
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
    const { BACKEND_ORDER } = await import('../src/backend/index.ts');
    const nativeBackend = (BACKEND_ORDER as readonly string[]).includes('native') ? 'native' : undefined;
    return { bytes: heap.buffer.byteLength, limit: 4 * 2 ** 30, nativeBackend };
  } catch {
    return undefined;
  }
}

/** Prints `err` as one line (and its stack when asked) and sets exit status 1. */
async function report(err: unknown, argv: readonly string[]): Promise<void> {
  const heap = err instanceof Error && (err.name === 'RuntimeError' || err.name === 'DataParallelError') ? await wasmHeap() : undefined;
  let text = `resdet: error: ${formatError(err, heap)}\n`;
  if (debugWanted(argv)) text += errorDetails(err);
  process.exitCode = 1;
  await new Promise<void>((resolve) => process.stderr.write(text, () => resolve()));
}

/**
 * Emscripten's abort prints `Aborted(...)` on stderr before it throws; the funnel's line says it
 * (and what to do), so that stray line is dropped from the CLI's stderr.
 */
function dropWasmAbortLines(): void {
  const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && /^Aborted\([^\n]*\)\n$/.test(chunk)) return true;
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
}

/**
 * Ends the process quietly when the reader of stdout (or stderr) goes away, as `resdet classify
 * ... | head -3` does: status 141 (128 + SIGPIPE), what a shell reports for a Unix tool that
 * SIGPIPE ended. Node ignores SIGPIPE and reports EPIPE as a stream error instead.
 */
function exitQuietlyOnEpipe(argv: readonly string[]): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(141);
      void report(err, argv).then(() => process.exit(1));
    });
  }
}

/**
 * Runs the CLI: every failure is printed as `resdet: error: ...` with exit status 1, help and
 * version output keep commander's status.
 */
export async function main(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  exitQuietlyOnEpipe(args);
  dropWasmAbortLines();
  // Failures outside the awaited command (a callback, a stray promise) end here, before the wasm
  // glue's own handlers (registered later, when the backend loads) would rethrow them with the
  // glue's whole source as context.
  const fatal = (err: unknown): void => {
    void report(err, args).then(() => process.exit(1));
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  try {
    const named = commandNamed(args);
    const program = await buildProgram(named ? [named] : undefined);
    await program.parseAsync(argv);
  } catch (err) {
    if (isHelpExit(err)) {
      process.exitCode = (err as TaggedCommanderError).exitCode;
      return;
    }
    await report(err, args);
    // A failed command may leave timers or workers behind: the error is reported, so end now
    // (stdout is flushed first).
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    process.exit(1);
  }
}

await main(process.argv);
