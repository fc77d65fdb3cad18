/**
 * Atomic file writes: write a temporary file beside the target, then rename it over the target.
 * A reader (or a crash) never sees a half-written file: either the old content or the new one.
 * rename(2) is atomic only within one file system, hence the temporary file in the same folder.
 */
import fs from 'node:fs';
import path from 'node:path';

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
