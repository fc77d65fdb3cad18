import assert from 'node:assert/strict';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/cli.ts';
import { CHILD_ENV, EXIT_TAG, childResult, runChild } from '../../../tools/bench/child.ts';

const SCRIPT = path.join(REPO_ROOT, 'test/fixtures/bench/child-case.ts');

describe('tools/bench/child', () => {
  describe('childResult', () => {
    it('parses the last stdout line of a child that exited 0', () => {
      assert.deepEqual(childResult('loading\n{"a":1}\n', '', 0, null), { a: 1 });
    });
    it('reports the error line, not the wasm glue source above it', () => {
      const stderr = 'Aborted(OOM)\nvar Module=function(){var a=1;Error(x)};\n\nRuntimeError: Aborted(OOM). Build with -sASSERTIONS for more info.\n    at abort (x.js:1:2)\n';
      assert.deepEqual(childResult('', stderr, 1, null), { error: 'RuntimeError: Aborted(OOM). Build with -sASSERTIONS for more info.' });
    });
    it('reports the exception behind an empty Aborted() (the glue aborts on any uncaught exception)', () => {
      const stderr = 'Aborted()\nvar Module=1;\n\nTypeError: Cannot read properties of undefined\n    at Engine.runKernelFunc (engine.ts:738:31)\n';
      assert.deepEqual(childResult('', stderr, 7, null), { error: 'TypeError: Cannot read properties of undefined' });
      assert.deepEqual(childResult('', 'Aborted(Cannot enlarge memory)\nError: wrapped\n', 7, null), { error: 'Aborted(Cannot enlarge memory); Error: wrapped' });
    });
    it('falls back to the exit code or signal', () => {
      assert.deepEqual(childResult('{"a":1}', 'no error line', 3, null), { error: 'exit 3' });
      assert.deepEqual(childResult('', '', null, 'SIGKILL'), { error: 'exit SIGKILL' });
      assert.deepEqual(childResult('', '', null, 'SIGTERM', true), { error: 'timed out (killed with SIGTERM)' });
      assert.deepEqual(childResult('', `RuntimeError: x\n${EXIT_TAG}{"wasm_heap_mb":4096}\n`, 7, null), { error: 'RuntimeError: x', at_exit: { wasm_heap_mb: 4096 } });
    });
  });

  describe('runChild', function () {
    // each case starts a Node process with tsx (about 1 s here, more on a loaded machine)
    this.timeout(30_000);
    it('runs a case in a child process and returns its JSON', () => {
      assert.deepEqual(runChild(SCRIPT, 'ok:7'), { n: 7, squared: 49 });
      assert.equal(process.env[CHILD_ENV], undefined);
    });
    it('reports an abort with its message, past megabytes of stderr', () => {
      const r = runChild(SCRIPT, 'abort-plain');
      assert.deepEqual(r, { error: 'Error: Aborted(Cannot enlarge memory, requested 4294967296 bytes)' });
    });
    it("adds what the aborted child measured at exit (serveChild's atExit)", () => {
      const r = runChild(SCRIPT, 'abort');
      assert.deepEqual(r, { error: 'Error: Aborted(Cannot enlarge memory, requested 4294967296 bytes)', at_exit: { heap_mb: 4096 } });
    });
    it('kills a case that runs past its time limit', () => {
      const r = runChild(SCRIPT, 'hang', { timeoutMs: 1500 });
      assert.equal(r.error, 'timed out (killed with SIGTERM)');
    });
  });
});
