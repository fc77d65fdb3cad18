/**
 * Regenerates the glyph table of tasks/detection/font.ts: renders printable ASCII in DejaVu Sans Mono Bold
 * (librsvg through sharp; the font must be installed, e.g. Debian's fonts-dejavu-core) at 15 px
 * into 10 x 17 cells, 4x supersampled and averaged down, and keeps the pixels darker than half
 * grey. Prints the table's lines; paste them into font.ts.
 *
 *   npx tsx tools/font-gen.ts
 */
import sharp from 'sharp';
import { xmlEscape } from '../datasets/shapes/formats.ts';

const CELL = { width: 10, height: 17 };
const FONT = { family: 'DejaVu Sans Mono', weight: 'bold', size: 15, baseline: 13 };
const SUPERSAMPLE = 4;
const THRESHOLD = 128;

for (let code = 32; code < 127; code++) {
  const c = String.fromCharCode(code);
  const s = SUPERSAMPLE;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${CELL.width * s}" height="${CELL.height * s}"><rect width="100%" height="100%" fill="white"/>`
    + `<text x="${0.2 * s}" y="${FONT.baseline * s}" font-family="${FONT.family}" font-weight="${FONT.weight}" font-size="${FONT.size * s}" fill="black" xml:space="preserve">${xmlEscape(c)}</text></svg>`;
  const data = await sharp(Buffer.from(svg)).greyscale().resize(CELL.width, CELL.height, { kernel: 'cubic' }).raw().toBuffer();
  let hex = '';
  for (let y = 0; y < CELL.height; y++) {
    let row = 0;
    for (let x = 0; x < CELL.width; x++) row = (row << 1) | (data[y * CELL.width + x] < THRESHOLD ? 1 : 0);
    hex += row.toString(16).padStart(3, '0');
  }
  process.stdout.write(`  '${hex}', // ${JSON.stringify(c)}\n`);
}
