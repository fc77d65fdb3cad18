/**
 * An up-front check of a training set's image files: every file's header is read (format and
 * size, without decoding the pixels: sharp's `metadata()` reads only the header), so that a
 * missing, foreign or mis-sized image is reported before training starts instead of when its
 * batch is first drawn, possibly hours into a run. A file whose header is fine but whose data is
 * cut short (a truncated JPEG) still fails only when it is decoded.
 */
import sharp, { type Metadata } from 'sharp';
import { inputError } from '../errors.ts';

/** One image to check. */
export interface ImageHeaderCheck {
  file: string;
  /** the size an annotation gives it (a different header size is an error) */
  expected?: { width: number; height: number; annotationFile: string };
}

/** Formats that training decodes (sharp's names). */
const FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif', 'jp2', 'svg', 'raw']);

/**
 * Reads every header, `concurrency` at a time (sharp reads them on libuv's thread pool).
 * @throws UserError for the first bad file in list order: `<file>: expected a readable image
 *   (JPEG, PNG, WebP...), ...`, or `<annotation>: size: expected the size of <file> (WxH), got WxH`
 */
export async function checkImageHeaders(images: readonly ImageHeaderCheck[], concurrency = 16): Promise<void> {
  const errors: Array<Error | undefined> = new Array(images.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < images.length) {
      const i = next++;
      errors[i] = await checkOne(images[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, images.length) }, worker));
  const first = errors.find((e) => e !== undefined);
  if (first) throw first;
}

async function checkOne(im: ImageHeaderCheck): Promise<Error | undefined> {
  let meta: Metadata;
  try {
    meta = await sharp(im.file).metadata();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' || /missing|does not exist/i.test(e.message) ? 'file not found' : e.message.split('\n')[0];
    return inputError(im.file, '', `expected a readable image (JPEG, PNG, WebP...), could not read its header: ${why}`);
  }
  if (!meta.format || !FORMATS.has(meta.format) || !meta.width || !meta.height) {
    return inputError(im.file, '', `expected a readable image (JPEG, PNG, WebP...), got ${meta.format ?? 'an unknown format'} without a size`);
  }
  const x = im.expected;
  if (x && (meta.width !== x.width || meta.height !== x.height)) {
    // the mapper's wording (datasets/detection/mapper.ts), so both checks read alike
    return inputError(x.annotationFile, 'size', `expected the size of ${im.file} (${meta.width}x${meta.height}), got ${x.width}x${x.height}`);
  }
  return undefined;
}
