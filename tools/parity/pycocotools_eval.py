"""pycocotools on the same files as `resdet eval coco`, for the speed comparison and a full-precision
check of every stat on large inputs (issue 2). Not part of the tests: it needs pycocotools.

    npm run bench:eval -- --keep                       # prints the kept folder, e.g. /tmp/resdet-bench-eval-XXXX
    python3 -m venv /tmp/pc && /tmp/pc/bin/pip install pycocotools 'numpy<2'
    /tmp/pc/bin/python tools/parity/pycocotools_eval.py $DIR/gt.json $DIR/dets.json > pc.json
    npx resdet eval coco --gt $DIR/gt.json --dets $DIR/dets.json --json > resdet.json
    /tmp/pc/bin/python tools/parity/pycocotools_eval.py --compare pc.json resdet.json

Random small cases (crowd regions, areas on the range bounds, tied scores, images with more than
100 detections of a class) for a differential check:

    /tmp/pc/bin/python tools/parity/pycocotools_eval.py --fuzz 40 /tmp/cocofuzz
    for s in $(seq 1 40); do
      npx resdet eval coco --gt /tmp/cocofuzz/gt$s.json --dets /tmp/cocofuzz/dets$s.json --json > /tmp/cocofuzz/rd$s.json
      /tmp/pc/bin/python tools/parity/pycocotools_eval.py --compare /tmp/cocofuzz/pc$s.json /tmp/cocofuzz/rd$s.json
    done

(40 seeds gave a largest difference of 0 on 2026-11-23.)

Golden fixtures (test/fixtures/eval-golden: small COCO and VOC cases with the reference numbers,
read by test/src/eval/golden-sources.ts in every clone; eval_golden.py beside this file defines them):

    /tmp/pc/bin/python tools/parity/pycocotools_eval.py --golden test/fixtures/eval-golden
    /tmp/pc/bin/python tools/parity/pycocotools_eval.py --verify test/fixtures/eval-golden
    /tmp/pc/bin/python tools/parity/pycocotools_eval.py --verify ../shared/eval-golden

--golden rewrites every case (seeded: a rerun gives the same files) with pycocotools COCOeval and
voc_eval.py's classic voc_eval() as the references; --verify recomputes the numbers of a golden
folder and prints the largest difference per case (0 everywhere on 2026-12-05, pycocotools 2.0.11,
numpy 1.26.4). The first form prints one JSON object: resdet's --json keys (stats, perCategory with ap, ap50,
ap75, ar100 computed as detectron2 does) plus wall and CPU seconds and peak RSS. --compare prints
the largest difference over every stat and per-category value and whether the -1 entries agree.
"""
import contextlib
import json
import resource
import sys
import time


def evaluate(gt_file, dets_file):
    import numpy as np
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    t0, c0 = time.time(), time.process_time()
    gt = COCO(gt_file)
    dt = gt.loadRes(dets_file)
    t1, c1 = time.time(), time.process_time()
    ev = COCOeval(gt, dt, 'bbox')
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    t2, c2 = time.time(), time.process_time()
    prec, rec = ev.eval['precision'], ev.eval['recall']

    def mean(x):
        x = x[x > -1]
        return float(np.mean(x)) if x.size else -1.0

    per = []
    for k, cid in enumerate(ev.params.catIds):
        per.append({'categoryId': int(cid), 'ap': mean(prec[:, :, k, 0, -1]), 'ap50': mean(prec[0, :, k, 0, -1]),
                    'ap75': mean(prec[5, :, k, 0, -1]), 'ar100': mean(rec[:, k, 0, -1])})
    return {'stats': [float(s) for s in ev.stats], 'perCategory': per,
            'loadSeconds': t1 - t0, 'evalSeconds': t2 - t1, 'loadCpuSeconds': c1 - c0, 'evalCpuSeconds': c2 - c1,
            'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def fuzz_case(seed, folder):
    """Writes gt<seed>.json and dets<seed>.json: a few images and classes, grid-aligned and free boxes."""
    import random
    rnd = random.Random(seed)
    imgs = [{'id': i * 3 + 1, 'width': 200, 'height': 200, 'file_name': f'{i}.jpg'} for i in range(rnd.randint(1, 12))]
    rnd.shuffle(imgs)
    cats = [{'id': c * 2 + 1, 'name': f'c{c}'} for c in range(rnd.randint(1, 5))]
    grid = [0, 5, 10, 16, 20, 32, 40, 50, 64, 96, 100]

    def box():
        if rnd.random() < 0.5:
            return [rnd.choice(grid), rnd.choice(grid), rnd.choice(grid[1:]), rnd.choice(grid[1:])]
        return [round(rnd.uniform(0, 150), 2), round(rnd.uniform(0, 150), 2), round(rnd.uniform(1, 60), 2), round(rnd.uniform(1, 60), 2)]

    anns = []
    for im in imgs:
        for _ in range(rnd.randint(0, 6)):
            b = box()
            area = b[2] * b[3] if rnd.random() < 0.6 else rnd.choice([1024, 9216, 1023.5, 500, 5000, b[2] * b[3] * 0.7])
            anns.append({'id': len(anns) + 1, 'image_id': im['id'], 'category_id': rnd.choice(cats)['id'], 'bbox': b,
                         'area': area, 'iscrowd': 1 if rnd.random() < 0.15 else 0})
    dets = []
    for im in imgs:
        mine = [a for a in anns if a['image_id'] == im['id']]
        for _ in range(rnd.randint(0, 25 if rnd.random() < 0.8 else 130)):
            if mine and rnd.random() < 0.6:
                a = rnd.choice(mine)
                b = [v + rnd.choice([0, 0, 1, -1, 2.5]) for v in a['bbox']]
                b[2], b[3] = max(1, b[2]), max(1, b[3])
                c = a['category_id'] if rnd.random() < 0.8 else rnd.choice(cats)['id']
            else:
                b, c = box(), rnd.choice(cats)['id']
            dets.append({'image_id': im['id'], 'category_id': c, 'bbox': b, 'score': rnd.choice([0.9, 0.5, 0.5, 0.3, round(rnd.random(), 3)])})
    if not dets:  # pycocotools' loadRes cannot read an empty list
        dets.append({'image_id': imgs[0]['id'], 'category_id': cats[0]['id'], 'bbox': [1, 1, 5, 5], 'score': 0.5})
    json.dump({'images': imgs, 'categories': cats, 'annotations': anns}, open(f'{folder}/gt{seed}.json', 'w'))
    json.dump(dets, open(f'{folder}/dets{seed}.json', 'w'))


def compare(a_file, b_file):
    a, b = json.load(open(a_file)), json.load(open(b_file))
    pairs = list(zip(a['stats'], b['stats']))
    bc = {c['categoryId']: c for c in b['perCategory']}
    for c in a['perCategory']:
        pairs += [(c[k], bc[c['categoryId']][k]) for k in ('ap', 'ap50', 'ap75', 'ar100')]
    diff = max(abs(x - y) for x, y in pairs)
    sentinels = all((x == -1) == (y == -1) for x, y in pairs)
    return {'values': len(pairs), 'maxAbsDiff': diff, 'sentinelsAgree': sentinels}


if __name__ == '__main__':
    if sys.argv[1] == '--compare':
        print(json.dumps(compare(sys.argv[2], sys.argv[3])))
    elif sys.argv[1] == '--golden':
        import eval_golden
        print(json.dumps(eval_golden.write_golden(sys.argv[2]), indent=1))
    elif sys.argv[1] == '--verify':
        import eval_golden
        print(json.dumps(eval_golden.verify_golden(sys.argv[2]), indent=1))
    elif sys.argv[1] == '--fuzz':
        import os
        n, folder = int(sys.argv[2]), sys.argv[3]
        os.makedirs(folder, exist_ok=True)
        for seed in range(1, n + 1):
            fuzz_case(seed, folder)
            with contextlib.redirect_stdout(sys.stderr):
                out = evaluate(f'{folder}/gt{seed}.json', f'{folder}/dets{seed}.json')
            json.dump(out, open(f'{folder}/pc{seed}.json', 'w'))
    else:
        with contextlib.redirect_stdout(sys.stderr):  # pycocotools prints its progress and summary
            out = evaluate(sys.argv[1], sys.argv[2])
        print(json.dumps(out))
