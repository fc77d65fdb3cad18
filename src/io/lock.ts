/**
 * One run per output folder: a training run holds `<out>/.lock` while it writes there, so a
 * second run started on the same folder is refused instead of overwriting the first one's
 * checkpoint and log.
 *
 * The lock file holds `{pid, host, started, command}` as JSON. It is written whole to a
 * temporary name and hard-linked to `.lock` (link(2) fails with EEXIST when the name exists),
 * so taking it is atomic and a reader never sees a half-written lock. A run that is killed
 * (kill -9, power loss) cannot remove its lock; the next run finds the lock's process gone
 * (same host, `kill(pid, 0)` says ESRCH, or on Linux the pid now belongs to a process started at
 * another time) and takes it over, so a dead run never leaves the folder stuck. A lock written on another host cannot be checked from here and is refused with
 * the file to delete.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OptionError } from '../errors.ts';

/** The lock file's name inside the folder it guards. */
export const LOCK_FILE = '.lock';

/** What a lock file records about its owner. */
export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken */
  started: string;
  /** the command line of the owner, for the message a refused run prints */
  command: string;
  /**
   * Linux: the owner's start time in clock ticks since boot (/proc/PID/stat field 22), so that
   * a new process that reuses a killed owner's pid is not mistaken for it
   */
  procStart?: string;
}

/**
 * A held lock; `release()` removes the file, and the folder when the lock made it and it is
 * still empty (once; later calls do nothing).
 */
export interface FolderLock {
  readonly file: string;
  release(): void;
}

/**
 * Whether a process with this id is alive on this machine. EPERM (alive, owned by another
 * user) counts as alive.
 */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's start time from /proc (Linux); undefined elsewhere or when it is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name, which is in parentheses and may itself hold spaces
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the lock's owner still runs: its pid is alive and, where known, started when it did. */
function ownerAlive(o: LockOwner): boolean {
  if (!isProcessAlive(o.pid)) return false;
  const now = processStartTime(o.pid);
  return o.procStart === undefined || now === undefined || now === o.procStart;
}

/** Reads a lock file and its inode; undefined when it is missing or not a lock resdet wrote. */
function readOwner(file: string): (LockOwner & { ino: number }) | undefined {
  let text: string;
  let ino: number;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      ino = fs.fstatSync(fd).ino;
      text = fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string') {
      return { pid: o.pid, host: oneLine(o.host), started: oneLine(String(o.started ?? '?')), command: oneLine(String(o.command ?? '?')), ...(typeof o.procStart === 'string' ? { procStart: o.procStart } : {}), ino };
    }
  } catch {
    // not JSON: handled below as a foreign file
  }
  return undefined;
}

let lockCounter = 0;

/** Folds a text to one line of at most 200 characters (it ends up in an error message). */
function oneLine(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 200)}...` : t;
}

/**
 * Gives the complete file `tmp` the name `file` unless that name exists (EEXIST). A hard link
 * does it atomically; on a file system without hard links, an exclusive create and a copy
 * (a reader may then briefly see a partial lock, which it treats as foreign).
 */
function takeName(tmp: string, file: string): void {
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
    fs.copyFileSync(tmp, file, fs.constants.COPYFILE_EXCL);
  }
}

/**
 * Takes the lock of `dir` (created when missing) for this process.
 * @param dir the folder a run writes to
 * @param option the option field that named it, for the message (`out`; the CLI words it as its flag)
 * @throws OptionError `<dir>/.lock: <dir> is in use by another run (pid P on H since T: CMD); ...`
 *   when a live process holds it, or a process on another host whose liveness cannot be checked
 */
export function lockFolder(dir: string, option = 'out'): FolderLock {
  const abs = path.resolve(dir);
  // a folder made here and still empty at release is removed again: a run refused on bad
  // input leaves nothing behind
  const st = fs.statSync(abs, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new OptionError((name) => `${abs}: ${name(option)}: expected a folder, got a file`);
  const created = !st;
  const file = path.join(abs, LOCK_FILE);
  const procStart = processStartTime(process.pid);
  const me: LockOwner = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), command: oneLine(process.argv.slice(1).join(' ')), ...(procStart ? { procStart } : {}) };
  lockCounter += 1;
  const tmp = path.join(abs, `${LOCK_FILE}.${process.pid}.${lockCounter}.tmp`);
  try {
    fs.mkdirSync(abs, { recursive: true });
    fs.writeFileSync(tmp, `${JSON.stringify(me)}\n`);
  } catch (err) {
    throw new OptionError((name) => `${abs}: ${name(option)}: cannot write the run's lock there (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    // Two tries: the second after removing a stale lock (a concurrent taker may win it instead).
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        takeName(tmp, file);
        let released = false;
        return {
          file,
          release() {
            if (released) return;
            released = true;
            // remove only our own lock (never one a later run took over)
            const o = readOwner(file);
            if (o && o.pid === me.pid && o.host === me.host && o.started === me.started) fs.rmSync(file, { force: true });
            if (created) {
              try {
                fs.rmdirSync(abs);
              } catch {
                // not empty: the run wrote its outputs
              }
            }
          },
        };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST') throw new OptionError((name) => `${file}: ${name(option)}: cannot write the run's lock there (${code ?? (err as Error).message})`);
      }
      const owner = readOwner(file);
      if (!owner) {
        if (!fs.existsSync(file)) continue; // released between our link and our read
        throw new OptionError((name) => `${file}: ${name(option)} ${abs} holds a lock file resdet did not write (expected JSON {pid, host}); delete it if no run uses this folder`);
      }
      const who = `pid ${owner.pid} on ${owner.host} since ${owner.started}: ${owner.command}`;
      if (owner.host !== me.host) {
        throw new OptionError((name) => `${file}: ${name(option)} ${abs} is in use by a run on another machine (${who}); choose another ${name(option)}, or delete the lock if that run is gone`);
      }
      if (ownerAlive(owner)) {
        throw new OptionError((name) => `${file}: ${name(option)} ${abs} is in use by another run (${who}); wait for it to finish or choose another ${name(option)}`);
      }
      // Stale: its process is gone (killed). Take it over, unless a concurrent run already did
      // (the name then points at another inode, which is that run's live lock).
      if (fs.statSync(file, { throwIfNoEntry: false })?.ino === owner.ino) fs.rmSync(file, { force: true });
    }
    throw new OptionError((name) => `${file}: ${name(option)} ${abs}: another run took the lock at the same moment; choose another ${name(option)}`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
