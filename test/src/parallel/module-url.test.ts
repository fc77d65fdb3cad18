/**
 * siblingModule: a module handed to a worker by URL is named with its caller's extension, so
 * the same code names `replica.ts` in the source tree and `replica.js` in the compiled package.
 */
import assert from 'node:assert/strict';
import { siblingModule } from '../../../src/parallel/module-url.ts';

describe('src/parallel/module-url: siblingModule', function () {
  it('keeps the caller extension and folder', function () {
    assert.equal(siblingModule('file:///repo/tasks/detection/train.ts', 'replica'), 'file:///repo/tasks/detection/replica.ts');
    assert.equal(siblingModule('file:///pkg/dist/tasks/detection/train.js', 'replica'), 'file:///pkg/dist/tasks/detection/replica.js');
  });

  it('handles folders with dots and escaped characters', function () {
    assert.equal(siblingModule('file:///a.b/my%20dir/train.ts', 'replica'), 'file:///a.b/my%20dir/replica.ts');
  });

  it('names a module that exists beside this test file', function () {
    // this file is a .ts: its sibling is tiny-replica.ts
    assert.ok(siblingModule(import.meta.url, 'tiny-replica').endsWith('/test/src/parallel/tiny-replica.ts'));
  });
});
