/**
 * Output-folder locks (src/io/lock.ts) and the removal of temporary files that killed writers
 * left (src/io/atomic.ts): a live owner is refused, a dead one's lock is taken over.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeStaleTempFiles } from '../../../src/io/atomic.ts';
import { isProcessAlive, LOCK_FILE, lockFolder, processStartTime } from '../../../src/io/lock.ts';
import { tmpDir } from '../../helpers/tmp.ts';

/** The pid of a process that has exited (a child that ran and was reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  assert.ok(r.pid && !isProcessAlive(r.pid));
  return r.pid;
}

const owner = (pid: number, host = os.hostname()) => JSON.stringify({ pid, host, started: '2026-01-01T00:00:00.000Z', command: 'resdet train-classifier' });

describe('src/io/lock', () => {
  it('a held lock refuses a second taker with one line naming the owner; release frees it', () => {
    const dir = path.join(tmpDir('resdet-lock-'), 'out');
    const lock = lockFolder(dir);
    const file = path.join(dir, LOCK_FILE);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).pid, process.pid);
    assert.throws(() => lockFolder(dir), (e: Error) => e.name === 'UserError' && !e.message.includes('\n')
      && e.message.startsWith(`${file}: out ${dir} is in use by another run (pid ${process.pid} on ${os.hostname()} since `)
      && e.message.endsWith('; wait for it to finish or choose another out'));
    lock.release();
    // made by the lock and left empty: removed again
    assert.ok(!fs.existsSync(dir));
    fs.mkdirSync(dir);
    lockFolder(dir).release();
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('a dead owner\'s lock is stale: taken over (a killed run never leaves the folder stuck)', () => {
    const dir = tmpDir('resdet-lock-');
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, owner(deadPid()));
    const lock = lockFolder(dir);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).pid, process.pid);
    lock.release();
    assert.ok(!fs.existsSync(file));
  });

  it('a live pid that started after the lock was written (a reused pid) does not hold it (Linux)', function () {
    if (processStartTime(process.pid) === undefined) this.skip();
    const dir = tmpDir('resdet-lock-');
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(owner(process.pid)), procStart: '1' }));
    lockFolder(dir).release();
    assert.ok(!fs.existsSync(file));
    // with this process's own start time the same pid holds it
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(owner(process.pid)), procStart: processStartTime(process.pid) }));
    assert.throws(() => lockFolder(dir), /is in use by another run/);
  });

  it('refuses a lock from another host and a file that is not a resdet lock, leaving them as they are', () => {
    const dir = tmpDir('resdet-lock-');
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, owner(deadPid(), 'elsewhere'));
    assert.throws(() => lockFolder(dir), /is in use by a run on another machine \(pid \d+ on elsewhere since .*\); choose another out, or delete the lock if that run is gone$/);
    fs.writeFileSync(file, 'hello');
    assert.throws(() => lockFolder(dir), /holds a lock file resdet did not write \(expected JSON \{pid, host\}\); delete it if no run uses this folder$/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'hello');
    assert.deepEqual(fs.readdirSync(dir), [LOCK_FILE]);
  });

  it('an --out that is a file is one error line', () => {
    const file = path.join(tmpDir('resdet-lock-'), 'out');
    fs.writeFileSync(file, 'x');
    assert.throws(() => lockFolder(file), { name: 'UserError', message: `${file}: out: expected a folder, got a file` });
    assert.equal(fs.readFileSync(file, 'utf8'), 'x');
  });

  it('removeStaleTempFiles removes dead writers\' temp files only', () => {
    const dir = tmpDir('resdet-tmp-');
    const dead = deadPid();
    const names = {
      deadAtomic: `.checkpoint.safetensors.${dead}.3.tmp`,
      deadLog: `metrics.jsonl.${dead}.tmp`,
      liveAtomic: `.checkpoint.safetensors.${process.pid}.1.tmp`,
      keep: 'checkpoint.safetensors',
      notTemp: 'notes.tmp',
      // a dead pid's name pattern, but not a temporary of a file the run writes: the user's
      userFile: `notes.${dead}.tmp`,
    };
    for (const n of Object.values(names)) fs.writeFileSync(path.join(dir, n), 'x');
    assert.deepEqual(removeStaleTempFiles(dir, ['checkpoint.safetensors', 'metrics.jsonl']).sort(), [names.deadAtomic, names.deadLog].sort());
    assert.deepEqual(fs.readdirSync(dir).sort(), [names.keep, names.liveAtomic, names.notTemp, names.userFile].sort());
  });
});
