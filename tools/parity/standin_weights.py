"""Stand-in ImageNet-format backbone weights for `resdet compare-backbones --weights` (issue 9).

No ImageNet weights can be downloaded on this machine, yet the paper's detection recipe (Tables
7-8, the `voc` / `coco` presets) fine-tunes pretrained backbones: BN is frozen and used with its
running statistics, conv1 and conv2_x are frozen. Random weights with BN's default running
statistics (mean 0, var 1) would feed the detector activations that grow with depth, so these
stand-ins keep torchvision's default initialisation and only give BN sane statistics:

- ResNet-50 / ResNet-101: `torchvision.models.resnet50()` / `resnet101()` with torchvision's
  default init (seeded), then every BatchNorm2d's running mean and variance set to the exact
  average over N real images (momentum None = cumulative average, train mode), forwarding the
  raccoon images (sorted, the first N, default 32, in batches of 8) resized to 320x320 and
  normalised as torchvision does (RGB/255, ImageNet mean/std). BN weight 1, bias 0 as initialised.
- VGG-16: `torchvision.models.vgg16()` with its default init (no BN, nothing to estimate).

The files are torchvision state_dicts saved with `torch.save` (zip), as a user's downloaded
`resnet101-*.pth` would be. They are NOT pretrained: a detector fine-tuned from them learns from
random features, so the mAPs they give are far below the paper's and say nothing about the
backbones' ImageNet quality; they only let the recipe (frozen BN, frozen stem) run as written.

    /usr/bin/python3 tools/parity/standin_weights.py /tmp/standin ../shared/data/raccoon/images [N]

writes /tmp/standin/{resnet50,resnet101,vgg16}.pth (98, 171 and 528 MB: too big to commit).
Never used by a test.
"""
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def load_images(folder, n, side=320):
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith(('.jpg', '.jpeg', '.png')))[:n]
    if len(files) < n:
        raise SystemExit(f'{folder}: expected at least {n} images, found {len(files)}')
    out = []
    for f in files:
        img = Image.open(os.path.join(folder, f)).convert('RGB').resize((side, side), Image.BILINEAR)
        a = (np.asarray(img, dtype=np.float32) / 255 - MEAN) / STD
        out.append(a.transpose(2, 0, 1))
    return torch.from_numpy(np.stack(out))


def calibrate_bn(net, images, batch=8):
    """Sets every BN's running statistics to their average over `images` (train-mode forward)."""
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative moving average: the exact mean over the batches
    net.train()
    with torch.no_grad():
        for i in range(0, len(images), batch):
            net(images[i:i + batch])
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = 0.1
    net.eval()


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    out, folder = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    images = load_images(folder, n)
    for seed, name in enumerate(['resnet50', 'resnet101', 'vgg16']):
        torch.manual_seed(seed)
        net = getattr(torchvision.models, name)()
        if name.startswith('resnet'):
            calibrate_bn(net, images)
        net.eval()
        with torch.no_grad():
            feats = net(images[:4])
        file = os.path.join(out, f'{name}.pth')
        torch.save(net.state_dict(), file)
        print(f'{file}: {sum(p.numel() for p in net.state_dict().values())} values; '
              f'logits std on 4 images (eval mode) {feats.std().item():.3f}')


if __name__ == '__main__':
    main()
