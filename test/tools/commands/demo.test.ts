/**
 * `resdet demo` with the smallest budget its flags allow (10 images, a few seconds of training):
 * it exits 0, says where the checkpoint and the detections picture are, and they exist.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../../helpers/cli.ts';
import { tmpDir } from '../../helpers/tmp.ts';

describe('tools: demo (smallest budget)', function () {
  it('trains, evaluates, draws and prints where the checkpoint and pictures are', function () {
    const out = path.join(tmpDir('resdet-demo-'), 'demo');
    // 0.05 min = 3 s of training: at least one update always runs before the time check
    const r = runCli(['demo', '--out', out, '--minutes', '0.05', '--images', '10', '--seed', '1']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^resdet demo: 10 synthetic images/);
    assert.match(r.stdout, /VOC mAP@0\.5 (\d\.\d{3}) \(07\)/);
    const map = Number(/VOC mAP@0\.5 (\d\.\d{3})/.exec(r.stdout)![1]);
    assert.ok(map >= 0 && map <= 1, `${map}`);
    const checkpoint = /^checkpoint: (.+)$/m.exec(r.stdout);
    const pictures = /^pictures: +(\S+) \(and (.+)\/\)$/m.exec(r.stdout);
    assert.ok(checkpoint && pictures, r.stdout);
    assert.equal(checkpoint[1], path.join(out, 'model', 'checkpoint.safetensors'));
    assert.equal(pictures[1], path.join(out, 'detections.png'));
    for (const f of [checkpoint[1], pictures[1]]) assert.ok(fs.statSync(f).size > 0, f);
    // 10 images -> 2 held-out test images, both drawn
    assert.equal(fs.readdirSync(pictures[2]).filter((f) => f.endsWith('.png')).length, 2);
  });
});
