"""Parity of `resdet classify` with torchvision (issue 3, acceptance "parity").

Builds torchvision ResNet-18, ResNet-50 and VGG-16 with random weights (and randomised BN statistics),
saves their state_dicts (zip format) and torchvision's logits on one real image already at
224x224 (so neither side resamples), then compares resdet's logits with them.

    OUT=/tmp/resdet-parity
    /usr/bin/python3 tools/parity/torchvision_parity.py make $OUT ../shared/data     # Debian python3-torch, python3-torchvision
    for m in resnet18 resnet50 vgg16; do
      npx resdet classify --model $m --weights $OUT/$m.pth $OUT/image-224.png --json > $OUT/$m-resdet.json
    done
    /usr/bin/python3 tools/parity/torchvision_parity.py compare $OUT

The checkpoints (45, 98 and 528 MB) are too big to commit, hence a manual check. A model list
after the folders (`make $OUT ../shared/data vgg16`) limits the run to those models.
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image

MODELS = ['resnet18', 'resnet50', 'vgg16']


def make(out, data, models):
    os.makedirs(out, exist_ok=True)
    src = Image.open(os.path.join(data, 'raccoon/images/raccoon-1.jpg')).convert('RGB')
    w, h = src.size
    s = min(w, h)
    img = src.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)).resize((224, 224), Image.BILINEAR)
    img.save(os.path.join(out, 'image-224.png'))
    a = np.asarray(img, dtype=np.float32) / 255
    x = torch.from_numpy(((a - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).astype(np.float32).transpose(2, 0, 1).copy())[None]
    for i, name in enumerate(MODELS):
        if name not in models:
            continue
        torch.manual_seed(i)
        net = getattr(torchvision.models, name)()
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_(0, 0.2)
                    m.running_mean.normal_(0, 0.2)
                    m.running_var.uniform_(0.5, 2.0)
        net.eval()
        with torch.no_grad():
            logits = net(x)[0]
        torch.save(net.state_dict(), os.path.join(out, f'{name}.pth'))
        json.dump({'logits': logits.tolist()}, open(os.path.join(out, f'{name}-torch.json'), 'w'))
        print(name, 'torch top-5', logits.topk(5).indices.tolist())


def compare(out, models):
    for name in models:
        ref = np.array(json.load(open(os.path.join(out, f'{name}-torch.json')))['logits'])
        got = np.array(json.load(open(os.path.join(out, f'{name}-resdet.json')))['results'][0]['logits'])
        diff = np.abs(got - ref).max()
        scale = np.abs(ref).max()
        print(json.dumps({'model': name, 'max_abs_diff': float(diff), 'max_abs_logit': float(scale),
                          'relative': float(diff / scale), 'pass_1e-4': bool(diff <= 1e-4 * scale),
                          'same_top5': np.argsort(-ref)[:5].tolist() == np.argsort(-got)[:5].tolist()}))


if __name__ == '__main__':
    if sys.argv[1] == 'make':
        make(sys.argv[2], sys.argv[3], sys.argv[4:] or MODELS)
    else:
        compare(sys.argv[2], sys.argv[3:] or MODELS)
