"""pycocotools on the same files as `resdet eval coco`, for the speed comparison and a full-precision
check of every stat on large inputs (issue 2). Not part of the tests: it needs pycocotools.

    npm run bench:eval -- --keep                       # prints the kept folder, e.g. /tmp/resdet-bench-eval-XXXX
    python3 -m venv /tmp/pc && /tmp/pc/bin/pip install pycocotools 'numpy<2'
    /tmp/pc/bin/python tools/parity/pycocotools_eval.py $DIR/gt.json $DIR/dets.json > pc.json
    npx resdet eval coco --gt $DIR/gt.json --dets $DIR/dets.json --json > resdet.json
    /tmp/pc/bin/python tools/parity/pycocotools_eval.py --compare pc.json resdet.json

The first form prints one JSON object: resdet's --json keys (stats, perCategory with ap, ap50,
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
    else:
        with contextlib.redirect_stdout(sys.stderr):  # pycocotools prints its progress and summary
            out = evaluate(sys.argv[1], sys.argv[2])
        print(json.dumps(out))
