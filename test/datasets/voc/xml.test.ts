import assert from 'node:assert/strict';
import { MAX_XML_DEPTH, parseVocXml } from '../../../datasets/voc/xml.ts';

/** A minimal VOC annotation with the given objects' XML. */
const doc = (objects: string, extra = '<filename>000123.jpg</filename>'): string =>
  `<annotation>${extra}<size><width>100</width><height>80</height><depth>3</depth></size>${objects}</annotation>`;
const obj = (box: string, more = '<difficult>0</difficult>'): string => `<object><name>cat</name>${more}<bndbox>${box}</bndbox></object>`;
const BOX = '<xmin>1</xmin><ymin>2</ymin><xmax>10</xmax><ymax>20</ymax>';

describe('datasets/voc/xml', () => {
  it('converts 1-based inclusive boxes to xyxy (x1 = xmin - 1, x2 = xmax) and reads flags', () => {
    const a = parseVocXml(doc(obj(BOX, '<truncated>1</truncated><difficult>1</difficult>') + obj('<xmin>5</xmin><ymin>5</ymin><xmax>5</xmax><ymax>5</ymax>', '')), 'a.xml');
    assert.deepEqual(a, {
      filename: '000123.jpg', width: 100, height: 80, depth: 3,
      objects: [
        // xmin 1 -> x1 0, ymin 2 -> y1 1; width 10 - 0 = 10 = xmax - xmin + 1.
        { name: 'cat', box: [0, 1, 10, 20], difficult: true, truncated: true },
        // xmin = xmax = 5 is one pixel: [4, 4, 5, 5]; absent flags are 0.
        { name: 'cat', box: [4, 4, 5, 5], difficult: false, truncated: false },
      ],
    });
  });

  it('reads an image without objects, keeps ids as strings, decodes predefined entities only', () => {
    assert.deepEqual(parseVocXml(doc('', '<filename>000007</filename>'), 'a.xml').objects, []);
    assert.equal(parseVocXml(doc('', '<filename>000007</filename>'), 'a.xml').filename, '000007');
    const a = parseVocXml(doc('<object><name>r&amp;d&#33;</name><bndbox>' + BOX + '</bndbox></object>'), 'a.xml');
    assert.equal(a.objects[0].name, 'r&d!');
  });

  it('uses the object bndbox, not those of its <part>s (VOC2012 person layout)', () => {
    const a = parseVocXml(doc(`<object><name>person</name><bndbox>${BOX}</bndbox><part><name>head</name><bndbox><xmin>3</xmin><ymin>3</ymin><xmax>4</xmax><ymax>4</ymax></bndbox></part></object>`), 'a.xml');
    assert.deepEqual(a.objects.map((o) => o.box), [[0, 1, 10, 20]]);
  });

  describe('bad input: one error naming the file and field', () => {
    const bad: Array<[string, string, RegExp]> = [
      ['malformed XML', '<annotation><size></annotation>', /^a\.xml: line 1, col \d+: malformed XML: /],
      ['no bndbox', doc('<object><name>cat</name></object>'), /^a\.xml: object\[0\]\.bndbox: missing/],
      ['no xmin', doc(obj('<ymin>2</ymin><xmax>10</xmax><ymax>20</ymax>')), /^a\.xml: object\[0\]\.bndbox\.xmin: missing/],
      ['non-numeric coordinate', doc(obj(BOX.replace('<xmax>10', '<xmax>1O'))), /^a\.xml: object\[0\]\.bndbox\.xmax: expected a finite number, got "1O"/],
      ['hex coordinate', doc(obj(BOX.replace('<xmax>10', '<xmax>0x10'))), /object\[0\]\.bndbox\.xmax: expected a finite number/],
      ['degenerate box', doc(obj('<xmin>10</xmin><ymin>2</ymin><xmax>9</xmax><ymax>20</ymax>')), /^a\.xml: object\[0\]\.bndbox: expected xmin <= xmax/],
      ['no name', doc('<object><bndbox>' + BOX + '</bndbox></object>'), /^a\.xml: object\[0\]\.name: missing/],
      ['bad difficult', doc(obj(BOX, '<difficult>yes</difficult>')), /^a\.xml: object\[0\]\.difficult: expected 0 or 1, got "yes"/],
      ['two xmin', doc(obj(BOX + '<xmin>3</xmin>')), /object\[0\]\.bndbox\.xmin: expected one element with text, got 2 elements/],
      ['no size', '<annotation><filename>a.jpg</filename></annotation>', /^a\.xml: annotation\.size: missing/],
      ['zero width', doc('').replace('<width>100', '<width>0'), /annotation\.size\.width: expected a positive number, got 0/],
      ['wrong root', '<foo/>', /^a\.xml: annotation: expected an <annotation> root/],
    ];
    for (const [what, xml, re] of bad) {
      it(what, () => assert.throws(() => parseVocXml(xml, 'a.xml'), (e: Error) => e.name === 'UserError' && re.test(e.message) && !e.message.includes('\n')));
    }

    it('refuses DOCTYPE / ENTITY declarations and never expands entities', () => {
      const lol = `<?xml version="1.0"?><!DOCTYPE annotation [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>${doc(obj(BOX).replace('<name>cat', '<name>&lol2;'))}`;
      assert.throws(() => parseVocXml(lol, 'a.xml'), /^UserError: a\.xml: DOCTYPE: DOCTYPE\/ENTITY declarations are not allowed/);
      const sys = `<!DOCTYPE annotation SYSTEM "file:///etc/passwd">${doc('')}`;
      assert.throws(() => parseVocXml(sys, 'a.xml'), /DOCTYPE\/ENTITY declarations are not allowed/);
      // An undeclared entity reference stays literal text (no expansion, no lookup).
      assert.equal(parseVocXml(doc(obj(BOX).replace('<name>cat', '<name>&lol;')), 'a.xml').objects[0].name, '&lol;');
    });
  });

  it('refuses elements nested past MAX_XML_DEPTH (100,000 deep) with one line, no stack overflow', () => {
    const n = 100_000;
    const deep = doc(`${'<object>'.repeat(n)}${'</object>'.repeat(n)}`);
    assert.throws(() => parseVocXml(deep, 'a.xml'), /^UserError: a\.xml: elements nested more than 64 deep; refusing to read it$/);
    // 64 levels (the root, then 63 more) are read, 65 are not
    const nested = (k: number) => `<annotation>${'<x>'.repeat(k)}${'</x>'.repeat(k)}<filename>a.jpg</filename><size><width>1</width><height>1</height></size></annotation>`;
    assert.equal(parseVocXml(nested(MAX_XML_DEPTH - 1), 'a.xml').filename, 'a.jpg');
    assert.throws(() => parseVocXml(nested(MAX_XML_DEPTH), 'a.xml'), /nested more than 64 deep/);
  });
});
