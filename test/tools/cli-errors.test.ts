/**
 * The CLI's error wording (tools/cli-errors.ts) for failures a test cannot cheaply cause in a
 * real process: a wasm out-of-memory abort (it needs a 4 GB heap), a data-parallel worker's
 * exception. The CLI cases themselves are in test/tools/commands/bad-input.test.ts.
 */
import assert from 'node:assert/strict';
import { CommanderError } from 'commander';
import { UserError } from '../../src/errors.ts';
import { DataParallelError } from '../../src/parallel/data-parallel.ts';
import { debugWanted, errorDetails, formatError, isWasmOutOfMemory } from '../../tools/cli-errors.ts';

const GB4 = 4 * 2 ** 30;

describe('tools/cli-errors', () => {
  it('a wasm abort with a full heap is one line saying what ran out and what to do', () => {
    // docs/performance.md's aborts: `RuntimeError: Aborted()` at 4096 MB, `memory access out of bounds` at 3765 MB
    const aborted = new WebAssembly.RuntimeError('Aborted(). Build with -sASSERTIONS for more info.');
    const heap = { bytes: GB4, limit: GB4, nativeBackend: 'native' };
    assert.equal(
      formatError(aborted, heap),
      'out of memory in the wasm backend: its heap reached 4096 MB of the 4096 MB that wasm32 can address (Aborted(). Build with -sASSERTIONS for more info.); use the native backend (RESDET_BACKEND=native), or a smaller --min-size or --batch-size',
    );
    const oob = new WebAssembly.RuntimeError('memory access out of bounds');
    assert.ok(isWasmOutOfMemory(oob, { bytes: 3765 * 2 ** 20, limit: GB4 }));
    assert.match(formatError(oob, { bytes: 3765 * 2 ** 20, limit: GB4 }), /^out of memory in the wasm backend: its heap reached 3765 MB .*; use a native backend \(npm install @tensorflow\/tfjs-node, then RESDET_BACKEND=tensorflow\)/);
    // an abort that names OOM needs no heap size
    assert.ok(isWasmOutOfMemory(new WebAssembly.RuntimeError('Aborted(OOM)')));
    // the same abort with a small heap is a bug, not a lack of memory
    assert.ok(!isWasmOutOfMemory(oob, { bytes: 64 * 2 ** 20, limit: GB4 }));
    assert.equal(formatError(oob, { bytes: 64 * 2 ** 20, limit: GB4 }), 'RuntimeError: memory access out of bounds');
  });

  it('folds multi-line messages (sharp, libvips) and names the class of internal errors', () => {
    assert.equal(formatError(new Error('Input file has corrupt header:\n  VipsJpeg: premature end\n')), 'Input file has corrupt header: VipsJpeg: premature end');
    assert.equal(formatError(new TypeError("Cannot read properties of undefined (reading 'x')")), "TypeError: Cannot read properties of undefined (reading 'x')");
    assert.equal(formatError(new UserError('a.json: images[0].id: expected a number')), 'a.json: images[0].id: expected a number');
    assert.equal(formatError('thrown string'), 'thrown string');
    assert.match(formatError(new UserError(`f: ${'x'.repeat(5000)}`)), /^f: x{997}\.\.\. \(4003 more characters\)$/);
  });

  it("a worker's exception is one line; its own stack is in the details", () => {
    const err = new DataParallelError('data-parallel worker 1: boom', 'Error: boom\n    at task (worker.ts:1:1)');
    assert.equal(formatError(err), 'data-parallel worker 1: boom');
    // an abort in a worker: its heap is not visible, the likely cause and the remedies are
    const abort = new DataParallelError('data-parallel worker 0: Aborted(). Build with -sASSERTIONS for more info.');
    assert.equal(formatError(abort, { bytes: 2 ** 30, limit: GB4, nativeBackend: 'native' }),
      'the wasm backend of data-parallel worker 0 aborted (Aborted(). Build with -sASSERTIONS for more info.), most likely out of memory; use the native backend (RESDET_BACKEND=native), fewer --workers, or a smaller --min-size or --batch-size');
    assert.match(errorDetails(err), /^DataParallelError: data-parallel worker 1: boom\n[^]*\nin the worker: Error: boom\n {4}at task/);
  });

  it("commander's errors lose their prefix and point at the command's help", () => {
    assert.equal(formatError(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--nope'")), "unknown option '--nope' (see resdet --help)");
    assert.equal(errorDetails(new CommanderError(1, 'commander.unknownOption', 'error: x')), '');
  });

  it('--verbose (before --) or RESDET_DEBUG asks for the stack', () => {
    assert.ok(debugWanted(['eval', '--verbose'], {}));
    assert.ok(!debugWanted(['detect', '--', '--verbose'], {}));
    assert.ok(debugWanted(['info'], { RESDET_DEBUG: '1' }));
    assert.ok(!debugWanted(['info'], { RESDET_DEBUG: '0' }));
    assert.ok(!debugWanted(['info'], {}));
  });
});
