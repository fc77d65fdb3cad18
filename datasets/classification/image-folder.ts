/**
 * Image-folder trees, the ImageNet layout (and CIFAR-10 as JPEGs): `root/<class>/<image>`, one
 * folder per class; sorted folder names give the class indices (torchvision's ImageFolder).
 * Only regular files and folders are listed (symbolic links are skipped), so no record points
 * outside `root`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { inputError } from '../../src/errors.ts';
import type { ClassificationRecord, ClassificationSet } from './records.ts';

/** File extensions sharp decodes that image folders use. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif'];

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Lists an image-folder tree.
 * @param root the folder holding one sub-folder per class
 * @param classes the class names to expect (e.g. a training set's, for its test set); default:
 *   the sorted sub-folder names
 * @throws UserError when `root` is missing, has no class folders, a class folder is missing, or
 *   a class has no images
 */
export function readImageFolder(root: string, classes?: readonly string[]): ClassificationSet {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch (err) {
    throw inputError(root, '', `expected a folder with one sub-folder per class (${(err as Error).message})`);
  }
  const folders = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(byName);
  if (folders.length === 0) throw inputError(root, '', 'expected one sub-folder per class, got none');
  const names = classes ? [...classes] : folders;
  const records: ClassificationRecord[] = [];
  names.forEach((cls, label) => {
    if (!folders.includes(cls)) throw inputError(root, `classes[${label}]`, `expected a folder named ${JSON.stringify(cls)} (the training set's classes), got none`);
    const files = fs
      .readdirSync(path.join(root, cls), { withFileTypes: true })
      .filter((e) => e.isFile() && IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort(byName);
    if (files.length === 0) throw inputError(root, `classes[${label}]`, `expected images (${IMAGE_EXTENSIONS.join(', ')}) in ${JSON.stringify(cls)}, got none`);
    for (const f of files) records.push({ id: `${cls}/${f}`, image: { kind: 'file', path: path.join(root, cls, f) }, label });
  });
  return { source: root, classes: names, records };
}
