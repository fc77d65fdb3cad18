"""Golden cases for resdet's COCO and VOC evaluators: small hand-designed inputs with the numbers
that the reference tools compute on them. Run through tools/parity/pycocotools_eval.py:

    python3 -m venv /tmp/pc && /tmp/pc/bin/pip install pycocotools 'numpy<2'
    /tmp/pc/bin/python tools/parity/pycocotools_eval.py --golden test/fixtures/eval-golden
    /tmp/pc/bin/python tools/parity/pycocotools_eval.py --verify ../shared/eval-golden

`--golden` rewrites every case (inputs and expected.json) in the layout of
../shared/eval-golden/README.md; the inputs are seeded, so a rerun writes the same files and only
a change of pycocotools or numpy could move a number (expected.json records both versions).
`--verify` recomputes the expected numbers of an existing golden folder with the same reference
code and prints the largest difference per case (0 on ../shared/eval-golden and on the fixtures).

COCO numbers come from pycocotools `COCOeval(iouType='bbox')` with default Params; the per-
category table is detectron2's (`_derive_coco_results`). VOC numbers come from voc_eval.py (the
classic `voc_eval()`, transcribed by hand) for both `use_07_metric` settings.
"""
import contextlib
import io
import json
import os
import random
import shutil

import numpy as np

VOC_CLASSES = ['aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow', 'diningtable',
               'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor']


# ---------------------------------------------------------------------------------------------
# COCO: reference numbers
# ---------------------------------------------------------------------------------------------

def coco_expected(gt_file, dets_file):
    """expected.json for one COCO case (keys as ../shared/eval-golden/README.md describes)."""
    from importlib.metadata import version
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):  # loading and evaluate() print progress
        gt = COCO(gt_file)
        dt = gt.loadRes(dets_file)
        ev = COCOeval(gt, dt, 'bbox')
        ev.evaluate()
        ev.accumulate()
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        ev.summarize()
    prec, rec = ev.eval['precision'], ev.eval['recall']

    def mean(x):
        x = x[x > -1]
        return float(np.mean(x)) if x.size else -1.0

    anns = gt.dataset['annotations']
    dets = json.load(open(dets_file))
    per = []
    for k, cid in enumerate(ev.params.catIds):
        mine = [a for a in anns if a['category_id'] == cid]
        per.append({
            'category_id': int(cid), 'name': gt.cats[cid]['name'],
            'num_gt': sum(1 for a in mine if not a['iscrowd']), 'num_crowd_gt': sum(1 for a in mine if a['iscrowd']),
            'num_dets': sum(1 for d in dets if d['category_id'] == cid),
            'ap': mean(prec[:, :, k, 0, -1]), 'ap50': mean(prec[0, :, k, 0, -1]), 'ap75': mean(prec[5, :, k, 0, -1]),
            'ar100': mean(rec[:, k, 0, -1]),
            # beyond ../shared's keys: the per-category area columns of `resdet eval --per-class`
            'aps': mean(prec[:, :, k, 1, -1]), 'apm': mean(prec[:, :, k, 2, -1]), 'apl': mean(prec[:, :, k, 3, -1]),
        })
    names = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl']
    stats = [float(s) for s in ev.stats]
    p = ev.params
    return {
        'reference': {'implementation': 'pycocotools COCOeval (cocodataset/cocoapi PythonAPI), default Params for iouType=bbox',
                      'pycocotools': version('pycocotools'), 'numpy': np.__version__},
        'iouType': 'bbox',
        'stats': stats,
        'stats_named': dict(zip(names, stats)),
        'per_category': per,
        'counts': {'images': len(gt.imgs), 'categories': len(gt.cats), 'gt_annotations': len(anns),
                   'gt_crowd': sum(1 for a in anns if a['iscrowd']), 'detections': len(dets)},
        'params': {'iouThrs': [float(x) for x in p.iouThrs], 'recThrs': [float(x) for x in p.recThrs],
                   'maxDets': [int(x) for x in p.maxDets], 'areaRng': [[float(a), float(b)] for a, b in p.areaRng]},
        'pycocotools_summary': text.getvalue().rstrip('\n'),
    }


class CocoCase:
    """A COCO case under construction: images, categories, GT and detections in file order."""

    def __init__(self, name, description):
        self.name, self.description = name, description
        self.images, self.categories, self.annotations, self.dets = [], [], [], []

    def image(self, iid, width=640, height=480):
        self.images.append({'id': iid, 'width': width, 'height': height, 'file_name': f'{iid:012d}.jpg'})
        return iid

    def category(self, cid, name):
        self.categories.append({'id': cid, 'name': name, 'supercategory': 'thing'})
        return cid

    def gt(self, image, cat, bbox, area=None, crowd=0):
        self._inside(image, bbox, 'GT')
        self.annotations.append({'id': len(self.annotations) + 1, 'image_id': image, 'category_id': cat, 'bbox': bbox,
                                 'area': bbox[2] * bbox[3] if area is None else area, 'iscrowd': crowd})
        return bbox

    def det(self, image, cat, bbox, score):
        self._inside(image, bbox, 'detection')
        self.dets.append({'image_id': image, 'category_id': cat, 'bbox': bbox, 'score': score})

    def _inside(self, image, b, what):
        im = next(i for i in self.images if i['id'] == image)
        if not (b[0] >= 0 and b[1] >= 0 and b[2] > 0 and b[3] > 0 and b[0] + b[2] <= im['width'] and b[1] + b[3] <= im['height']):
            raise ValueError(f'{self.name}: {what} box {b} is not inside image {image}')

    def write(self, folder):
        os.makedirs(folder, exist_ok=True)
        rows = lambda xs: '[\n' + ',\n'.join(json.dumps(x) for x in xs) + '\n]'
        with open(f'{folder}/gt.json', 'w') as f:
            f.write('{"images": ' + rows(self.images) + ',\n"categories": ' + rows(self.categories)
                    + ',\n"annotations": ' + rows(self.annotations) + '}\n')
        with open(f'{folder}/dets.json', 'w') as f:
            f.write(rows(self.dets) + '\n')
        exp = coco_expected(f'{folder}/gt.json', f'{folder}/dets.json')
        exp = {'case': self.name, 'description': self.description, **exp}
        with open(f'{folder}/expected.json', 'w') as f:
            json.dump(exp, f, indent=1)
            f.write('\n')
        return exp


def jitter(rnd, b, amount, image):
    """A box near b (x, y, w, h), rounded to 0.01, kept inside the image."""
    x = max(0.0, round(b[0] + rnd.uniform(-amount, amount) * b[2], 2))
    y = max(0.0, round(b[1] + rnd.uniform(-amount, amount) * b[3], 2))
    w = round(b[2] * (1 + rnd.uniform(-amount, amount)), 2)
    h = round(b[3] * (1 + rnd.uniform(-amount, amount)), 2)
    w = max(1.0, min(w, round(image['width'] - x, 2)))
    h = max(1.0, min(h, round(image['height'] - y, 2)))
    return [x, y, w, h]


def random_box(rnd, image, lo=8, hi=160):
    w, h = rnd.randint(lo, hi), rnd.randint(lo, hi)
    return [rnd.randint(0, image['width'] - w), rnd.randint(0, image['height'] - h), w, h]


def fill_random(case, rnd, images, cats, n_gt, n_fp, crowd=0.0, miss=0.2, score=lambda rnd, good: round(rnd.random(), 4)):
    """Random GT on `images` (0..n_gt each), jittered detections of most of them, random FPs."""
    for iid in images:
        im = next(i for i in case.images if i['id'] == iid)
        for _ in range(rnd.randint(0, n_gt)):
            c = rnd.choice(cats)
            b = case.gt(iid, c, random_box(rnd, im), crowd=1 if rnd.random() < crowd else 0)
            if rnd.random() >= miss:
                case.det(iid, c, jitter(rnd, b, rnd.choice([0.02, 0.08, 0.2]), im), score(rnd, True))
        for _ in range(rnd.randint(0, n_fp)):
            case.det(iid, rnd.choice(cats), random_box(rnd, im), score(rnd, False))


def coco_cases():
    """The COCO cases: each pins down one group of pycocotools quirks (README of ../shared)."""
    cases = []

    c = CocoCase('crowd_area_bounds', 'crowd regions (area field != w*h) absorbing detections; GT areas exactly 32^2 and 96^2 '
                 '(in two ranges); unmatched detections of w*h exactly 1024 and 9216; a detection with IoU 0.55 to a GT and '
                 '1.0 to a crowd region; category 3 has only crowd GT (-1)')
    person, car, dog = c.category(1, 'person'), c.category(3, 'car'), c.category(18, 'dog')
    a = c.image(5)
    c.gt(a, person, [10, 10, 32, 32])                    # area 1024: small and medium
    c.gt(a, person, [100, 100, 96, 96])                  # area 9216: medium and large
    c.gt(a, person, [300, 50, 40, 40], area=1000)        # area field small, w*h medium
    c.gt(a, person, [200, 200, 150, 150], area=5000, crowd=1)
    c.gt(a, dog, [400, 300, 100, 100])
    c.gt(a, dog, [380, 280, 200, 190], area=30000, crowd=1)
    c.det(a, person, [10, 10, 32, 32], 0.9)
    c.det(a, person, [102, 98, 96, 96], 0.8)
    c.det(a, person, [302, 52, 40, 40], 0.75)
    c.det(a, person, [220, 220, 50, 50], 0.85)           # inside the crowd region: ignored
    c.det(a, person, [230, 240, 60, 40], 0.7)
    c.det(a, person, [500, 20, 32, 32], 0.65)            # unmatched, w*h = 1024
    c.det(a, person, [500, 100, 96, 96], 0.6)            # unmatched, w*h = 9216
    c.det(a, dog, [400, 300, 100, 55], 0.95)             # IoU 0.55 with the dog, 1.0 with the crowd region
    c.det(a, dog, [390, 290, 60, 60], 0.5)
    b = c.image(2, 500, 400)
    c.gt(b, car, [50, 50, 300, 200], area=41000, crowd=1)
    for i, s in enumerate([0.9, 0.8, 0.7]):
        c.det(b, car, [60 + 40 * i, 60, 80, 60], s)
    c.det(b, car, [400, 300, 50, 50], 0.6)
    rnd = random.Random(11)
    for iid in (9, 1, 3, 7, 15, 21):
        c.image(iid)
    fill_random(c, rnd, [9, 1, 3, 7, 15, 21], [person, dog], 5, 4, crowd=0.15)
    for iid in (9, 1, 3):                                 # car detections on images without car GT
        c.det(iid, car, random_box(rnd, c.images[-1]), round(rnd.random(), 4))
    cases.append(c)

    c = CocoCase('tied_scores', 'scores drawn from {0.9, 0.7, 0.5, 0.3}: ties within an image (file order decides which of two '
                 'equal detections of one GT is the TP) and across images (ascending image id, then file order); images '
                 'listed in descending id, detections in shuffled order')
    cats = [c.category(2, 'bicycle'), c.category(4, 'motorcycle')]
    ids = [30, 14, 9, 5, 2, 1]
    for iid in ids:
        c.image(iid)
    rnd = random.Random(22)
    fill_random(c, rnd, ids, cats, 5, 3, score=lambda rnd, good: rnd.choice([0.9, 0.7, 0.5, 0.5, 0.3]))
    g = c.gt(9, cats[0], [20, 20, 100, 80])
    c.det(9, cats[0], [22, 20, 100, 80], 0.7)             # two equal-score detections of one GT:
    c.det(9, cats[0], [20, 20, 100, 80], 0.7)             # the first in file order is the TP
    c.det(2, cats[0], g, 0.7)
    rnd.shuffle(c.dets)
    cases.append(c)

    c = CocoCase('over_100_dets', 'more than 100 detections of one class in one image (maxDets 100 truncates per image and '
                 'category; AR@1 and AR@10 take the top 1 / 10), with true positives ranked on both sides of the cut')
    cats = [c.category(1, 'person'), c.category(44, 'bottle')]
    rnd = random.Random(33)
    for iid, (n_gt, n_fp) in zip([1, 2, 3], [(15, 115), (8, 97), (4, 6)]):
        c.image(iid, 640, 640)
        im = c.images[-1]
        for k in range(n_gt):
            b = c.gt(iid, cats[0], [(k % 5) * 120 + 10, (k // 5) * 120 + 10, 80 + k, 90])
            c.det(iid, cats[0], jitter(rnd, b, 0.05, im), round(rnd.uniform(0.05, 0.99), 4))
        for _ in range(n_fp):
            c.det(iid, cats[0], random_box(rnd, im, 8, 40), round(rnd.uniform(0.0, 0.9), 4))
        for _ in range(3):
            b = c.gt(iid, cats[1], random_box(rnd, im))
            c.det(iid, cats[1], jitter(rnd, b, 0.1, im), round(rnd.random(), 4))
    for k in range(101):                                   # 101 bottles in image 3, one of them right
        c.det(3, cats[1], random_box(rnd, c.images[2], 8, 30), round(0.5 + k / 1000, 4))
    cases.append(c)

    c = CocoCase('images_without_gt_no_large', 'half of the images have no GT (their detections are FPs); no GT is large, '
                 'so APl and ARl are -1; category 5 has detections but no GT (-1), category 6 GT but no detections (0)')
    cats = [c.category(1, 'person'), c.category(5, 'airplane'), c.category(6, 'bus')]
    rnd = random.Random(44)
    ids = [101, 7, 55, 3, 88, 12, 40, 9, 70, 23]
    for iid in ids:
        c.image(iid)
    for n, iid in enumerate(ids):
        im = c.images[n]
        if n % 2 == 0:
            for _ in range(rnd.randint(1, 4)):
                b = c.gt(iid, cats[0], random_box(rnd, im, 8, 80))      # w*h < 96^2
                if rnd.random() < 0.8:
                    c.det(iid, cats[0], jitter(rnd, b, 0.1, im), round(rnd.random(), 4))
            if rnd.random() < 0.5:
                c.gt(iid, cats[2], random_box(rnd, im, 10, 60))
        for _ in range(rnd.randint(0, 3)):
            c.det(iid, rnd.choice(cats[:2]), random_box(rnd, im, 8, 200), round(rnd.random(), 4))
    cases.append(c)

    c = CocoCase('iou_recall_thresholds', 'IoUs exactly 0.5, 0.75 and 0.9 (0.9 > iouThrs[8] = 0.8999999999999999, so it '
                 'matches there) and a recall of exactly 7/20 = 0.35 (below recThrs[35] = 0.35000000000000003)')
    cat = c.category(1, 'person')
    for iid in (1, 2, 3, 4):
        c.image(iid, 200, 200)
    score = 1.0
    for k in range(20):
        iid, x, y = 1 + k // 5, 10 + 35 * (k % 5), 20 + 30 * (k // 5)
        c.gt(iid, cat, [x, y, 10, 10])
        h = [10, 10, 10, 10, 10, 10, 10, 9, 9, 7.5, 7.5, 5, 5, 5, None, None, None, None, 4, None][k]
        if h is not None:
            score = round(score - 0.03, 2)
            c.det(iid, cat, [x, y, 10, h], score)         # IoU h / 10 with its GT
    for k in range(6):
        c.det(1 + k % 4, cat, [5 + 20 * k, 150, 10, 10], round(0.985 - 0.11 * k, 3))
    cases.append(c)
    return cases


# ---------------------------------------------------------------------------------------------
# VOC: reference numbers
# ---------------------------------------------------------------------------------------------

def voc_expected(folder):
    """expected.json for one VOC case folder, every class through voc_eval (both metrics)."""
    from voc_eval import parse_rec, voc_eval

    parse_rec.cache_clear()
    det = folder + '/results/comp4_det_test_{}.txt'
    ann = folder + '/Annotations/{}.xml'
    imageset = folder + '/ImageSets/Main/test.txt'
    ids = [x.strip() for x in open(imageset)]
    objs = [o for i in ids for o in parse_rec(ann.format(i))]
    per = {}
    for c in VOC_CLASSES:
        ap07 = voc_eval(det, ann, imageset, c, 0.5, True)[2]
        ap_area = voc_eval(det, ann, imageset, c, 0.5, False)[2]
        mine = [o for o in objs if o['name'] == c]
        per[c] = {'npos': sum(1 for o in mine if not o['difficult']), 'num_dets': len(open(det.format(c)).readlines()),
                  'num_difficult': sum(1 for o in mine if o['difficult']), 'ap_07': float(ap07), 'ap_area': float(ap_area)}
    with_gt = [c for c in VOC_CLASSES if per[c]['npos'] > 0]
    return {
        'reference': {'implementation': 'voc_eval() of tools/parity/voc_eval.py, transcribed from detectron2/evaluation/'
                      'pascal_voc_evaluation.py @ 02b5c4e (py-faster-rcnn lib/datasets/voc_eval.py lineage)',
                      'numpy': np.__version__},
        'ovthresh': 0.5,
        'classes': VOC_CLASSES,
        'per_class': per,
        'mAP_07': float(np.mean([per[c]['ap_07'] for c in VOC_CLASSES])),
        'mAP_area': float(np.mean([per[c]['ap_area'] for c in VOC_CLASSES])),
        'classes_with_gt': with_gt,
        'mAP_07_classes_with_gt': float(np.mean([per[c]['ap_07'] for c in with_gt])),
        'mAP_area_classes_with_gt': float(np.mean([per[c]['ap_area'] for c in with_gt])),
        'counts': {'images': len(ids), 'objects': len(objs), 'difficult': sum(1 for o in objs if o['difficult']),
                   'detections': sum(per[c]['num_dets'] for c in VOC_CLASSES)},
    }


class VocCase:
    """A VOC case: images with objects (1-based inclusive integer boxes) and per-class detections."""

    def __init__(self, name, description):
        self.name, self.description = name, description
        self.images = {}   # id -> (width, height, [objects])
        self.dets = {c: [] for c in VOC_CLASSES}

    def image(self, iid, width=500, height=375):
        self.images[iid] = (width, height, [])
        return iid

    def obj(self, iid, name, box, difficult=0):
        w, h, objs = self.images[iid]
        if not (1 <= box[0] <= box[2] <= w and 1 <= box[1] <= box[3] <= h):
            raise ValueError(f'{self.name}: object {box} is not inside image {iid}')
        objs.append({'name': name, 'box': [int(v) for v in box], 'difficult': difficult})
        return box

    def det(self, iid, name, box, score):
        self.dets[name].append([iid, score, *[round(float(v), 1) for v in box]])

    def write(self, folder):
        for sub in ('Annotations', 'ImageSets/Main', 'results'):
            os.makedirs(f'{folder}/{sub}', exist_ok=True)
        for iid, (w, h, objs) in self.images.items():
            with open(f'{folder}/Annotations/{iid}.xml', 'w') as f:
                f.write(voc_xml(iid, w, h, objs))
        with open(f'{folder}/ImageSets/Main/test.txt', 'w') as f:
            f.write(''.join(f'{i}\n' for i in self.images))
        self._write_results(folder, lambda rows: rows)
        check_ties_order_free(self, folder)
        exp = {'case': self.name, 'description': self.description, **voc_expected(folder)}
        with open(f'{folder}/expected.json', 'w') as f:
            json.dump(exp, f, indent=1)
            f.write('\n')
        return exp

    def _write_results(self, folder, order):
        for c in VOC_CLASSES:
            with open(f'{folder}/results/comp4_det_test_{c}.txt', 'w') as f:
                f.write(''.join(f'{r[0]} {r[1]} {r[2]:.1f} {r[3]:.1f} {r[4]:.1f} {r[5]:.1f}\n' for r in order(self.dets[c])))


def voc_xml(iid, w, h, objs):
    parts = [f'<annotation>\n\t<folder>VOC2007</folder>\n\t<filename>{iid}.jpg</filename>\n\t<source>\n\t\t<database>resdet '
             f'golden fixture</database>\n\t</source>\n\t<size>\n\t\t<width>{w}</width>\n\t\t<height>{h}</height>\n\t\t'
             f'<depth>3</depth>\n\t</size>\n\t<segmented>0</segmented>\n']
    for o in objs:
        b = o['box']
        parts.append(f'\t<object>\n\t\t<name>{o["name"]}</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n'
                     f'\t\t<difficult>{o["difficult"]}</difficult>\n\t\t<bndbox>\n\t\t\t<xmin>{b[0]}</xmin>\n\t\t\t<ymin>{b[1]}'
                     f'</ymin>\n\t\t\t<xmax>{b[2]}</xmax>\n\t\t\t<ymax>{b[3]}</ymax>\n\t\t</bndbox>\n\t</object>\n')
    parts.append('</annotation>\n')
    return ''.join(parts)


def check_ties_order_free(case, folder):
    """
    voc_eval sorts with numpy's unstable argsort, so tied scores are allowed only where their order
    cannot change a number: every class is evaluated with its results file forward, reversed and
    shuffled, and all three must agree exactly (resdet keeps ties in file order).
    """
    from voc_eval import voc_eval
    rnd = random.Random(0)
    orders = [lambda rows: rows, lambda rows: rows[::-1], lambda rows: rnd.sample(rows, len(rows))]
    seen = []
    for order in orders:
        case._write_results(folder, order)
        seen.append([voc_eval(folder + '/results/comp4_det_test_{}.txt', folder + '/Annotations/{}.xml',
                              folder + '/ImageSets/Main/test.txt', c, 0.5, m)[2] for c in VOC_CLASSES for m in (True, False)])
    case._write_results(folder, lambda rows: rows)
    if not (seen[0] == seen[1] == seen[2]):
        raise ValueError(f'{case.name}: the order of tied scores changes an AP; untie them')


def voc_box(rnd, w, h, lo=10, hi=200):
    bw, bh = rnd.randint(lo, min(hi, w - 1)), rnd.randint(lo, min(hi, h - 1))
    x1, y1 = rnd.randint(1, w - bw), rnd.randint(1, h - bh)
    return [x1, y1, x1 + bw, y1 + bh]


def voc_jitter(rnd, b, amount, w, h):
    bw, bh = b[2] - b[0] + 1, b[3] - b[1] + 1
    x1 = min(max(1.0, b[0] + rnd.uniform(-amount, amount) * bw), w - 2)
    y1 = min(max(1.0, b[1] + rnd.uniform(-amount, amount) * bh), h - 2)
    x2 = min(max(x1 + 1, b[2] + rnd.uniform(-amount, amount) * bw), w)
    y2 = min(max(y1 + 1, b[3] + rnd.uniform(-amount, amount) * bh), h)
    return [x1, y1, x2, y2]


class UniqueScores:
    """Scores unique within a run (six decimals), so that only deliberate ties exist."""

    def __init__(self, rnd):
        self.rnd, self.used = rnd, set()

    def __call__(self, lo=0.0, hi=1.0):
        while True:
            s = round(self.rnd.uniform(lo, hi), 6)
            if s not in self.used:
                self.used.add(s)
                return s


def voc_cases():
    """The VOC cases: voc_eval's matching rules, the 11-point thresholds, ties and empty images."""
    cases = []

    c = VocCase('voc_matching_rules', 'argmax GT difficult (ignored although a non-difficult GT overlaps > 0.5); argmax GT '
                'already matched (FP although another GT overlaps > 0.5); two identical GTs (the argmax tie goes to the '
                'first, so the second equal detection is an FP); IoU exactly 0.5 (FP: the match is strict); images without '
                'objects; 16 classes without GT or detections (AP 0, counted in the mAP)')
    rnd = random.Random(55)
    score = UniqueScores(rnd)
    c.image('000001')
    c.obj('000001', 'cat', [11, 11, 60, 60], difficult=1)
    c.obj('000001', 'cat', [15, 15, 64, 64])
    c.det('000001', 'cat', [11, 11, 60, 60], 0.91)        # argmax the difficult GT: ignored
    c.det('000001', 'cat', [16, 14, 64, 66], 0.62)        # then the regular one: TP
    c.image('000002')
    c.obj('000002', 'dog', [100, 100, 199, 199])
    c.obj('000002', 'dog', [105, 105, 204, 204])
    c.det('000002', 'dog', [100, 100, 199, 199], 0.95)    # TP
    c.det('000002', 'dog', [101, 101, 200, 200], 0.9)     # argmax GT 1 (0.961) already matched: FP, GT 2 (0.855) stays free
    c.det('000002', 'dog', [106, 104, 205, 203], 0.4)     # TP on GT 2
    c.image('000003')
    c.obj('000003', 'person', [1, 1, 10, 10])
    c.obj('000003', 'person', [200, 100, 260, 300])
    c.det('000003', 'person', [1, 1, 10, 5], 0.7)         # IoU exactly 50 / 100 = 0.5: FP
    c.det('000003', 'person', [201, 99, 259, 301], 0.66)
    c.image('000004')
    c.obj('000004', 'car', [50, 50, 150, 150])
    c.obj('000004', 'car', [50, 50, 150, 150])
    c.det('000004', 'car', [50, 50, 150, 150], 0.8)       # TP on the first of two identical GTs
    c.det('000004', 'car', [50, 50, 150, 150], 0.55)      # argmax tie -> the first again: FP
    for iid in ('000005', '000006', '000007'):             # no objects: every detection is an FP
        c.image(iid)
        for name in ('cat', 'dog', 'person'):
            c.det(iid, name, voc_box(rnd, 500, 375), score(0.0, 0.6))
    for n in range(8, 14):
        iid = f'{n:06d}'
        c.image(iid)
        for _ in range(rnd.randint(1, 4)):
            name = rnd.choice(['cat', 'dog', 'person', 'car'])
            b = c.obj(iid, name, voc_box(rnd, 500, 375), difficult=1 if rnd.random() < 0.15 else 0)
            if rnd.random() < 0.85:
                c.det(iid, name, voc_jitter(rnd, b, rnd.choice([0.03, 0.1, 0.3]), 500, 375), score())
        c.det(iid, rnd.choice(['cat', 'dog', 'person', 'car']), voc_box(rnd, 500, 375), score(0.0, 0.5))
    cases.append(c)

    c = VocCase('voc_recall_points', 'recalls of exactly 3/10, 6/10 and 7/10, which do not reach the 11-point thresholds '
                '0.30000000000000004, 0.6000000000000001 and 0.7000000000000001 of np.arange(0, 1.1, 0.1); difficult GT '
                'beside them')
    rnd = random.Random(66)
    score = UniqueScores(rnd)
    plan = {'bird': 3, 'boat': 6, 'bus': 7, 'sheep': 10}
    for n in range(1, 11):
        c.image(f'{n:06d}', 400, 300)
    for name, hits in plan.items():
        for k in range(10):
            iid = f'{k + 1:06d}'
            b = c.obj(iid, name, voc_box(rnd, 400, 300, 20, 120))
            if k < hits:
                c.det(iid, name, voc_jitter(rnd, b, 0.03, 400, 300), score(0.3, 1.0))
            if k % 3 == 0:
                d = c.obj(iid, name, voc_box(rnd, 400, 300, 20, 120), difficult=1)
                c.det(iid, name, voc_jitter(rnd, d, 0.03, 400, 300), score(0.0, 1.0))
        for _ in range(4):
            c.det(f'{rnd.randint(1, 10):06d}', name, voc_box(rnd, 400, 300, 10, 40), score(0.0, 0.8))
    cases.append(c)

    c = VocCase('voc_jitter_ties', 'jittered detections of 12 classes with IoU-correlated scores, 10% difficult GT, random '
                'FPs; scores tie across images where the tied detections have the same outcome (checked: forward, '
                'reversed and shuffled results files give identical APs)')
    rnd = random.Random(77)
    score = UniqueScores(rnd)
    names = VOC_CLASSES[:12]
    for n in range(1, 19):
        iid = f'{2 * n + 1:06d}'
        c.image(iid, 480, 360)
        for _ in range(rnd.randint(0, 4)):
            name = rnd.choice(names)
            b = c.obj(iid, name, voc_box(rnd, 480, 360, 12, 180), difficult=1 if rnd.random() < 0.1 else 0)
            if rnd.random() < 0.8:
                amount = rnd.choice([0.02, 0.08, 0.25])
                c.det(iid, name, voc_jitter(rnd, b, amount, 480, 360), score(0.5, 1.0) if amount < 0.2 else score(0.1, 0.6))
        for _ in range(rnd.randint(0, 2)):
            c.det(iid, rnd.choice(names), voc_box(rnd, 480, 360), score(0.0, 0.5))
    tie_same_outcomes(c)
    for name in names:   # voc_eval needs npos > 0 wherever a class has detections (else NaN); drop them instead
        if not any(o['name'] == name and not o['difficult'] for _, _, objs in c.images.values() for o in objs):
            c.dets[name] = []
    cases.append(c)
    return cases


def voc_outcomes(case, name, rows):
    """voc_eval's outcome of each row ('tp', 'fp', 'ignored'), rows in descending score (unique)."""
    gts = {iid: [o for o in objs if o['name'] == name] for iid, (_, _, objs) in case.images.items()}
    matched = {iid: [False] * len(g) for iid, g in gts.items()}
    out = []
    for r in rows:
        bb = r[2:]
        best, jmax = -np.inf, -1
        for j, o in enumerate(gts[r[0]]):
            g = o['box']
            iw = max(min(g[2], bb[2]) - max(g[0], bb[0]) + 1.0, 0.0)
            ih = max(min(g[3], bb[3]) - max(g[1], bb[1]) + 1.0, 0.0)
            uni = (bb[2] - bb[0] + 1.0) * (bb[3] - bb[1] + 1.0) + (g[2] - g[0] + 1.0) * (g[3] - g[1] + 1.0) - iw * ih
            if iw * ih / uni > best:
                best, jmax = iw * ih / uni, j
        if best > 0.5 and gts[r[0]][jmax]['difficult']:
            out.append('ignored')
        elif best > 0.5 and not matched[r[0]][jmax]:
            matched[r[0]][jmax] = True
            out.append('tp')
        else:
            out.append('fp')
    return out


def tie_same_outcomes(case):
    """
    Gives pairs of rank-adjacent detections of one class the same score where they lie on different
    images and have the same outcome: then no order of the pair changes the curve.
    """
    for name in VOC_CLASSES:
        rows = sorted(case.dets[name], key=lambda r: -r[1])
        rows = [[r[0], r[1], *[round(float(v), 1) for v in r[2:]]] for r in rows]
        outcome = voc_outcomes(case, name, rows)
        i = 0
        while i < len(rows) - 1:
            if rows[i][0] != rows[i + 1][0] and outcome[i] == outcome[i + 1]:
                rows[i + 1][1] = rows[i][1]
                i += 2
            else:
                i += 1
        case.dets[name] = rows


# ---------------------------------------------------------------------------------------------
# Entry points (called from pycocotools_eval.py)
# ---------------------------------------------------------------------------------------------

def write_golden(root):
    """Writes every case under root/coco and root/voc, and root/index.json (headline numbers)."""
    index = {'coco': {}, 'voc': {}}
    for kind, cases in (('coco', coco_cases()), ('voc', voc_cases())):
        shutil.rmtree(f'{root}/{kind}', ignore_errors=True)
        for case in cases:
            exp = case.write(f'{root}/{kind}/{case.name}')
            head = {'AP': exp['stats'][0], 'AP50': exp['stats'][1]} if kind == 'coco' else {'mAP_07': exp['mAP_07'], 'mAP_area': exp['mAP_area']}
            index[kind][case.name] = {'path': f'{kind}/{case.name}', 'description': case.description, **head}
    with open(f'{root}/index.json', 'w') as f:
        json.dump(index, f, indent=1)
        f.write('\n')
    return index


def verify_golden(root):
    """Recomputes every case's numbers under root; returns {case: largest abs difference, or 'sentinel'}."""
    out = {}
    for name in sorted(os.listdir(f'{root}/coco')) if os.path.isdir(f'{root}/coco') else []:
        d = f'{root}/coco/{name}'
        want = json.load(open(f'{d}/expected.json'))
        got = coco_expected(f'{d}/gt.json', f'{d}/dets.json')
        pairs = list(zip(got['stats'], want['stats']))
        for g, w in zip(got['per_category'], want['per_category']):
            pairs += [(g[k], w[k]) for k in ('ap', 'ap50', 'ap75', 'ar100', 'aps', 'apm', 'apl') if k in w]
        out[f'coco/{name}'] = diff_or_sentinel(pairs) if got['pycocotools_summary'] == want['pycocotools_summary'] else 'summary text'
    for name in sorted(os.listdir(f'{root}/voc')) if os.path.isdir(f'{root}/voc') else []:
        d = f'{root}/voc/{name}'
        want = json.load(open(f'{d}/expected.json'))
        got = voc_expected(d)
        pairs = [(got['mAP_07'], want['mAP_07']), (got['mAP_area'], want['mAP_area'])]
        pairs += [(got['per_class'][c][k], want['per_class'][c][k]) for c in VOC_CLASSES for k in ('ap_07', 'ap_area')]
        out[f'voc/{name}'] = diff_or_sentinel(pairs)
    return out


def diff_or_sentinel(pairs):
    if not all((a == -1) == (b == -1) for a, b in pairs):
        return 'sentinel'
    return max(abs(a - b) for a, b in pairs)
