/**
 * Atomic file writes: write a temporary file beside the target, then rename it over the target.
 * A reader (or a crash) never sees a half-written file: either the old content or the new one.
 * rename(2) is atomic only within one file system, hence the temporary file in the same folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isProcessAlive } from './lock.ts';

/** A unique temporary name in the target's folder, e.g. `.dets.json.1234.5.tmp`. */
function tempNameFor(file: string): string {
  tempCounter += 1;
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${tempCounter}.tmp`);
}
let tempCounter = 0;

/**
 * Writes `data` to `file` atomically (temp file + fsync + rename). On any error the temporary
 * file is removed and the target is left as it was.
 * @param file the destination path
 * @param data the whole content
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = tempNameFor(file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * The pid in a temporary name resdet's writers give `target`: `.<target>.<pid>.<n>.tmp`
 * (writeFileAtomic) or `<target>.<pid>.<n>.tmp`/`<target>.<pid>.tmp` (the plot's rewrite, the
 * lock's); undefined for any other name.
 */
function tempPid(name: string, target: string): number | undefined {
  for (const prefix of [`.${target}.`, `${target}.`]) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)(?:\.\d+)?$/.exec(name.slice(prefix.length, -'.tmp'.length));
    if (m) return Number(m[1]);
  }
  return undefined;
}

/**
 * Removes the temporary files that writers killed mid-write left in `dir` for the files
 * `targets` (a crash between writing a temporary file and renaming it leaves it behind; nothing
 * else ever removes it). Only names of the targets' temporary files count (a user's own
 * `notes.1.tmp` is never touched), and only those of processes no longer alive, so a live
 * writer's file is kept. Call it while holding the folder's lock (./lock.ts).
 * @param targets file names in `dir`, e.g. `['checkpoint.safetensors', 'metrics.jsonl']`
 * @returns the names removed
 */
export function removeStaleTempFiles(dir: string, targets: readonly string[]): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = targets.map((t) => tempPid(name, t)).find((p) => p !== undefined);
    if (pid === undefined || pid === process.pid || isProcessAlive(pid)) continue;
    const file = path.join(dir, name);
    if (!fs.lstatSync(file, { throwIfNoEntry: false })?.isFile()) continue;
    fs.rmSync(file, { force: true });
    removed.push(name);
  }
  return removed;
}
