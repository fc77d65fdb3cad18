/**
 * Resolving file names read from untrusted annotation files (COCO `file_name`, VOC
 * `<filename>`) under a dataset root. A name must stay inside the root: absolute paths, `..`
 * segments that climb out, NUL bytes and empty names are refused with a clear error.
 */
import path from 'node:path';
import { inputError, quote } from '../errors.ts';

/**
 * Resolves `name` (a relative path taken from an annotation file) under `root`.
 * @param root the dataset folder the name is relative to
 * @param name the untrusted relative path, e.g. `000000391895.jpg` or `train/a.jpg`
 * @param file the annotation file the name came from (for the error message)
 * @param where the record and field, e.g. `images[3].file_name`
 * @returns the absolute path, guaranteed to lie inside `root`
 */
export function resolveInsideRoot(root: string, name: string, file: string, where: string): string {
  const bad = (why: string) => inputError(file, where, `expected a relative path inside ${root} (${why}), got ${quote(name)}`);
  if (typeof name !== 'string' || name.length === 0) throw bad('empty');
  if (name.includes('\0')) throw bad('NUL byte');
  // Both separators count: a Windows-made file may say `..\\x.jpg`, and `C:` or `\\\\host` are absolute there.
  if (path.isAbsolute(name) || path.win32.isAbsolute(name) || /^[A-Za-z]:/.test(name)) throw bad('absolute path');
  if (name.split(/[\\/]/).includes('..')) throw bad('".." segment');
  const absRoot = path.resolve(root);
  const resolved = path.resolve(absRoot, name);
  const rel = path.relative(absRoot, resolved);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw bad('escapes the root');
  return resolved;
}
