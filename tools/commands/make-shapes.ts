/** `resdet make-shapes`: writes the synthetic shapes detection set (VOC layout + COCO JSON). */
import type { Command } from 'commander';
import { OptionError, UserError } from '../../src/errors.ts';
import { makeShapes, SHAPE_CLASSES, type ShapeClass } from '../../datasets/shapes/index.ts';
import { flagName, parseIntFlag, parseSize } from '../flags.ts';

/** The flag of each makeShapes option: the size is one flag, `--size WxH`. */
const flagOf = (field: string): string => (field === 'width' ? '--size (width)' : field === 'height' ? '--size (height)' : flagName(field));

export function registerMakeShapes(program: Command): void {
  program
    .command('make-shapes')
    .description('write a synthetic detection set (coloured circles, squares, triangles, stars on textured backgrounds) in VOC layout and COCO JSON')
    .requiredOption('--out <dir>', 'output folder (absent or empty; see --force)')
    .requiredOption('--images <n>', 'number of images')
    .option('--seed <s>', 'random seed (same seed, same bytes)', '0')
    .option('--size <WxH>', 'landscape image size; a quarter of the images are portrait (HxW)', '256x192')
    .option('--portrait <fraction>', 'fraction of portrait images', '0.25')
    .option('--val-fraction <f>', 'fraction held out as val/test', '0.2')
    .option('--classes <list>', `comma-separated subset of ${SHAPE_CLASSES.join(',')}`)
    .option('--objects <min,max>', 'objects per image', '1,4')
    .option('--force', 'replace a non-empty output folder')
    .action(async (opts: { out: string; images: string; seed: string; size: string; portrait: string; valFraction: string; classes?: string; objects: string; force?: boolean }) => {
      const [width, height] = parseSize(opts.size);
      const objects = opts.objects.split(',').map((s) => parseIntFlag(s, '--objects'));
      if (objects.length !== 2 || objects[0] > objects[1]) throw new UserError(`--objects: expected MIN,MAX with MIN <= MAX, got ${JSON.stringify(opts.objects)}`);
      const t0 = Date.now();
      const r = await makeShapes({
        out: opts.out,
        images: parseIntFlag(opts.images, '--images', 1),
        seed: parseIntFlag(opts.seed, '--seed'),
        width, height,
        portrait: Number(opts.portrait),
        valFraction: Number(opts.valFraction),
        classes: opts.classes ? (opts.classes.split(',') as ShapeClass[]) : undefined,
        objects: [objects[0], objects[1]],
        force: opts.force,
      }).catch((err: unknown) => {
        throw err instanceof OptionError ? err.renamed(flagOf) : err;
      });
      process.stdout.write([
        `wrote ${r.train + r.val} images (${r.train} train, ${r.val} val/test), ${r.objects} objects, classes ${r.classes.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        `voc: ${r.vocRoot}`,
        `coco: ${r.out}/annotations/instances_{train,val}.json (images relative to ${r.out})`,
        '',
      ].join('\n'));
    });
}
