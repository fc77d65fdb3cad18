/**
 * Parses one PASCAL VOC annotation file (`Annotations/<id>.xml`) into a plain record.
 *
 * Annotation files are untrusted input: a DOCTYPE or ENTITY declaration is refused before the
 * parser sees the text (so no entity is ever defined, let alone expanded: no "billion laughs",
 * no external entities), and fast-xml-parser runs with entity processing off as a second guard.
 * Only the five predefined XML entities and numeric character references are decoded, by hand.
 * Values are kept as strings by the parser (`parseTagValue: false`, so `<filename>000123</filename>`
 * stays "000123") and converted here with strict checks; every error names the file and field.
 *
 * Nesting is limited to {@link MAX_XML_DEPTH} elements: fast-xml-parser builds its tree with a stack
 * and refuses deeper documents itself, with a plain Error that is turned into the file's one-line
 * error here (a VOC file nests 4 deep: annotation > object > bndbox > xmin).
 *
 * Box coordinates are converted at load: see ./records.ts for the convention.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { inputError, quote } from '../../src/errors.ts';
import { vocToBox, type VocAnnotation, type VocObject } from './records.ts';

/** Elements that may repeat in a VOC file and are always read as lists. */
const LIST_TAGS = new Set(['object', 'part']);

/** Deepest element nesting accepted (VOC needs 4; fast-xml-parser's default is 100). */
export const MAX_XML_DEPTH = 64;

const parser = new XMLParser({
  // its count leaves out the outermost element
  maxNestedTags: MAX_XML_DEPTH - 1,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: false,
  htmlEntities: false,
  isArray: (name: string) => LIST_TAGS.has(name),
});

/** `<!DOCTYPE` or `<!ENTITY` anywhere in the text (XML keywords are case-sensitive; be stricter). */
const DECLARATION = /<!\s*(DOCTYPE|ENTITY)/i;

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the predefined XML entities and numeric character references (nothing user-defined). */
function decodeText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return PREDEFINED[ref] ?? m;
  });
}

type XmlNode = Record<string, unknown>;

function isNode(v: unknown): v is XmlNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads the text of `node[key]`; `undefined` when the element is absent. */
function text(node: XmlNode, key: string, file: string, where: string): string | undefined {
  const v = node[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    throw inputError(file, where, `expected one element with text, got ${Array.isArray(v) ? `${v.length} elements` : 'nested elements'}`);
  }
  return decodeText(v);
}

function requiredText(node: XmlNode, key: string, file: string, where: string): string {
  const v = text(node, key, file, where);
  if (v === undefined) throw inputError(file, where, 'missing (required)');
  return v;
}

function child(node: XmlNode, key: string, file: string, where: string): XmlNode {
  const v = node[key];
  if (v === undefined) throw inputError(file, where, 'missing (required)');
  if (!isNode(v)) throw inputError(file, where, `expected one element with child elements, got ${quote(v)}`);
  return v;
}

/** A decimal number (optionally signed, fractional, with exponent); rejects "", "0x1f", "nan", "inf". */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A strictly decimal string as a number; NaN for anything else ("", "0x1f", "nan", "inf"). */
export function toNumber(s: string): number {
  return NUMBER.test(s) ? Number(s) : NaN;
}

/** Parses a strictly numeric string; throws a located error otherwise. */
export function parseNumber(s: string, file: string, where: string): number {
  const v = toNumber(s);
  if (!Number.isFinite(v)) throw inputError(file, where, `expected a finite number, got ${quote(s)}`);
  return v;
}

function flag(node: XmlNode, key: string, file: string, where: string): boolean {
  const s = text(node, key, file, where);
  if (s === undefined || s === '') return false; // absent in some VOC2012 / tool-made files: 0
  if (s === '0' || s === '1') return s === '1';
  throw inputError(file, where, `expected 0 or 1, got ${quote(s)}`);
}

/**
 * Parses the text of one VOC annotation file.
 * @param xml the file's text
 * @param file the file name used in error messages
 * @param fallbackFilename used when `<filename>` is absent (the devkit's `<id>.jpg`)
 * @returns the annotation with boxes as `[x1, y1, x2, y2]` (x1 = xmin - 1, x2 = xmax)
 * @throws UserError for malformed XML, DOCTYPE/ENTITY declarations, missing or bad fields
 */
export function parseVocXml(xml: string, file: string, fallbackFilename?: string): VocAnnotation {
  const decl = DECLARATION.exec(xml);
  if (decl) {
    throw inputError(file, decl[1].toUpperCase(), 'DOCTYPE/ENTITY declarations are not allowed in annotation files (entities are never expanded)');
  }
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw inputError(file, `line ${valid.err.line}, col ${valid.err.col}`, `malformed XML: ${valid.err.msg}`);
  }
  let doc: XmlNode;
  try {
    doc = parser.parse(xml) as XmlNode;
  } catch (err) {
    const msg = (err as Error).message;
    throw inputError(file, '', /nested tags/i.test(msg) ? `elements nested more than ${MAX_XML_DEPTH} deep; refusing to read it` : `malformed XML: ${msg}`);
  }
  const root = doc.annotation;
  if (!isNode(root)) throw inputError(file, 'annotation', 'expected an <annotation> root element');

  // The name is untrusted: the loader resolves it inside the images folder (src/io/paths.ts).
  const given = text(root, 'filename', file, 'annotation.filename');
  const filename = given === undefined || given === '' ? fallbackFilename : given;
  if (filename === undefined) throw inputError(file, 'annotation.filename', 'missing (required)');

  const size = child(root, 'size', file, 'annotation.size');
  const dim = (key: string): number => {
    const where = `annotation.size.${key}`;
    const v = parseNumber(requiredText(size, key, file, where), file, where);
    if (!(v > 0)) throw inputError(file, where, `expected a positive number, got ${v}`);
    return v;
  };
  const width = dim('width');
  const height = dim('height');
  const depthText = text(size, 'depth', file, 'annotation.size.depth');
  const depth = depthText ? parseNumber(depthText, file, 'annotation.size.depth') : undefined;

  const rawObjects = root.object === undefined ? [] : (root.object as unknown[]);
  const objects: VocObject[] = rawObjects.map((o, i) => {
    const where = `object[${i}]`;
    if (!isNode(o)) throw inputError(file, where, 'expected an element with <name> and <bndbox>');
    const name = requiredText(o, 'name', file, `${where}.name`);
    if (name === '') throw inputError(file, `${where}.name`, 'expected a class name, got ""');
    const bb = child(o, 'bndbox', file, `${where}.bndbox`);
    const coord = (key: string): number => {
      const w = `${where}.bndbox.${key}`;
      return parseNumber(requiredText(bb, key, file, w), file, w);
    };
    const [xmin, ymin, xmax, ymax] = [coord('xmin'), coord('ymin'), coord('xmax'), coord('ymax')];
    // 1-based inclusive: xmax == xmin is a one-pixel box; xmax < xmin has no pixels.
    if (xmax < xmin || ymax < ymin) {
      throw inputError(file, `${where}.bndbox`, `expected xmin <= xmax and ymin <= ymax, got ${quote({ xmin, ymin, xmax, ymax })}`);
    }
    return {
      name,
      box: vocToBox(xmin, ymin, xmax, ymax),
      difficult: flag(o, 'difficult', file, `${where}.difficult`),
      truncated: flag(o, 'truncated', file, `${where}.truncated`),
    };
  });
  return { filename, width, height, ...(depth !== undefined ? { depth } : {}), objects };
}
