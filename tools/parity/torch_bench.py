"""PyTorch peer of resdet's benchmarks (issue 8, "Speed and memory"): the same cases on the same
machine, measured with Debian's python3-torch / python3-torchvision on the CPU, so that
`npm run bench:train` and `npm run bench:detect` can print resdet/PyTorch throughput ratios.

    /usr/bin/python3 tools/parity/torch_bench.py --threads 2 --steps 3 [--cases r50infer1,r20train,...]

Prints one JSON object: {"torch", "torchvision", "threads", "steps", "cases": {spec: result}}.
Each case runs in its own Python process (this script with --child), so its `peak_rss_mb`
(getrusage ru_maxrss) is its own; a case that fails reports {"error"} and the others still run.
Every case runs one warm-up step (oneDNN primitive creation, momentum buffers), then `--steps`
timed steps; results give wall ms, CPU ms (this process, all threads) and images/s.

Cases (a spec, or an alias from ALIASES):
- `cls_infer:resnet50:<batch>`: torchvision resnet50, eval mode, torch.inference_mode, 224x224
  random input, logits computed (resdet bench:train r50infer1 / r50infer8). BN stays a separate
  op: PyTorch's eager mode does not fold it.
- `cls_train:resnet50:<batch>` (224x224, 1000 classes) and `cls_train:resnet20:<batch>` (32x32,
  10 classes; the CIFAR ResNet-20 of He et al. Sec. 4.2 with option-A shortcuts, CifarResNet20
  below): a full training step in train mode (BN batch statistics), cross-entropy, backward,
  SGD lr 0.01, momentum 0.9, weight decay 1e-4 (resdet bench:train r50train / r20train: the
  Trainer's defaults).
- `det_train:<resnet50|resnet101|vgg16>:<batch>:<HxW>`: a Faster R-CNN training step with the
  recipe of resdet's bench:detect (tools/bench/detect.ts with detectors/presets/voc.ts and
  detectors/config.ts), built from torchvision's parts (FasterRCNNC4 below):
  seeded random-noise image(s) of HxW zero-padded to multiples of 16 (608x1008 for 600x1000)
  with three GT boxes of 20 VOC classes; the trunk is ResNet conv1..conv4 (stride 16, 1024
  channels) or VGG-16 conv1_1..conv5_3 + ReLU (512 channels), torchvision's own modules with
  random weights; for the ResNets every BN is FrozenBatchNorm2d (Appendix A fine-tuning), and
  conv1 + conv2_x (ResNet) or conv1_x + conv2_x (VGG-16) get no gradient. RPN: torchvision's
  RPNHead (3x3 conv with the trunk's channels + ReLU, 1x1 objectness and deltas) over 9 anchors
  per cell (sizes 128, 256, 512 x ratios 0.5, 1, 2: RPN_DEFAULTS), 256 sampled anchors (half
  positive at most; IoU 0.7 / 0.3), 12000 proposals before and 2000 after NMS 0.7. RoI heads:
  128 sampled RoIs per image (25% foreground, GT boxes appended), RoIPool (torchvision.ops.roi_pool,
  spatial scale 1/16) to 14x14 then conv5_x (layer4, first block stride 2) + global average pool
  for the ResNets, to 7x7 then fc6/fc7 (+ ReLU, dropout 0.5) for VGG-16; cls_score (21) and
  class-specific bbox_pred (84); cross-entropy + smooth L1 for both stages; SGD lr 0.001,
  momentum 0.9, weight decay 1e-4 over the trainable parameters. Differences from resdet that do
  not change the work per step: torchvision keeps anchors that cross the image border (resdet
  ignores them in the anchor sample, Faster R-CNN Sec. 3.3), drops degenerate proposals (1e-3 px)
  rather than those under 16 px, samples background RoIs from IoU [0, 0.5) rather than
  [0.1, 0.5), and uses smooth-L1 beta 1/9 in the box head (resdet 1).
- `det_infer:resnet50:<HxW>`: the same ResNet-50 C4 detector in eval mode (6000 / 300
  proposals, RoIPool 14x14 + conv5 on each of the 300, score threshold 0.05, per-class NMS 0.3,
  100 detections), resdet bench:detect `infer`; BN unfolded (FrozenBatchNorm2d's multiply-add).

Training throughput is images per second; inference also gives ms per image. The random-weight
backbones with identity frozen BN make activations and losses large (as in resdet's bench,
whose losses diverge); the loss is reported, and the work per step does not depend on it.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.roi_heads import RoIHeads
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead
from torchvision.ops import FrozenBatchNorm2d, roi_pool

ALIASES = {
    'r50infer1': 'cls_infer:resnet50:1',
    'r50infer8': 'cls_infer:resnet50:8',
    'r50train': 'cls_train:resnet50:8',
    'r20train': 'cls_train:resnet20:128',
    'det_r50': 'det_train:resnet50:1:600x1000',
    'det_r101': 'det_train:resnet101:1:600x1000',
    'det_vgg16': 'det_train:vgg16:1:600x1000',
    'det_r50_infer': 'det_infer:resnet50:600x1000',
}
DEFAULT_CASES = 'r50infer1,r50infer8,r50train,r20train,det_r101,det_vgg16,det_r50_infer'

# bench:detect's three GT boxes at 600x1000 (a small, a middle and a large object), scaled with the input
GT_BOXES_600x1000 = [[100, 80, 220, 260], [400, 150, 700, 450], [50, 20, 950, 580]]
NUM_VOC_CLASSES = 20


def fail(msg):
    print(f'torch_bench: error: {msg}', file=sys.stderr)
    sys.exit(1)


def parse_spec(spec):
    """Splits and checks a case spec; returns (kind, model, batch, (height, width))."""
    parts = ALIASES.get(spec, spec).split(':')
    kind = parts[0]
    shapes = {'cls_infer': 3, 'cls_train': 3, 'det_train': 4, 'det_infer': 3}
    if kind not in shapes or len(parts) != shapes[kind]:
        fail(f'case {spec!r}: expected an alias ({", ".join(ALIASES)}) or cls_infer:resnet50:<batch>, '
             'cls_train:<resnet50|resnet20>:<batch>, det_train:<resnet50|resnet101|vgg16>:<batch>:<HxW>, det_infer:resnet50:<HxW>')
    model = parts[1]
    models = {'cls_infer': ['resnet50'], 'cls_train': ['resnet50', 'resnet20'], 'det_train': ['resnet50', 'resnet101', 'vgg16'], 'det_infer': ['resnet50']}
    if model not in models[kind]:
        fail(f'case {spec!r}: model {model!r}: expected one of {", ".join(models[kind])}')
    batch = 1 if kind == 'det_infer' else parts[2]
    if not str(batch).isdigit() or int(batch) < 1:
        fail(f'case {spec!r}: batch {batch!r}: expected a positive integer')
    size = None
    if kind.startswith('det'):
        hw = parts[-1].split('x')
        if len(hw) != 2 or not all(v.isdigit() and int(v) >= 32 for v in hw):
            fail(f'case {spec!r}: input {parts[-1]!r}: expected HxW, e.g. 600x1000')
        size = (int(hw[0]), int(hw[1]))
    return kind, model, int(batch), size


def peak_rss_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KB on Linux


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(step, steps):
    """Runs `step` once (warm-up), then `steps` times; returns (warm-up ms, wall ms, CPU ms) per step."""
    t0 = time.perf_counter()
    out = step()
    warm = (time.perf_counter() - t0) * 1000
    t1, c1 = time.perf_counter(), cpu_s()
    for _ in range(steps):
        out = step()
    wall = (time.perf_counter() - t1) * 1000 / steps
    cpu = (cpu_s() - c1) * 1000 / steps
    return warm, wall, cpu, out


# ---------------------------------------------------------------------------------------------
# Classification


class CifarBlockA(nn.Module):
    """Basic block of He et al. Sec. 4.2 with an option-A shortcut: x[:, :, ::2, ::2] zero-padded
    on the channel axis (half before, half after) when the block halves the map and doubles the
    width (resdet backbones/blocks.ts ZeroPadShortcut; akamaster/pytorch_resnet_cifar10 LambdaLayer)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = (cout - cin) // 2 if stride != 1 or cin != cout else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + short)


class CifarResNet20(nn.Module):
    """ResNet-20 (6n+2, n = 3): 3x3 conv 16, stages of 16/32/64 filters on 32/16/8 maps, global
    average pool, 10-way fc (resdet backbones/cifar-resnet.ts)."""

    def __init__(self, n=3, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        blocks, cin = [], 16
        for width, stride in ((16, 1), (32, 2), (64, 2)):
            for b in range(n):
                blocks.append(CifarBlockA(cin, width, stride if b == 0 else 1))
                cin = width
        self.blocks = nn.Sequential(*blocks)
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn1(self.conv1(x))))
        return self.linear(x.mean((2, 3)))


def classification(kind, model, batch, steps):
    side, classes = (32, 10) if model == 'resnet20' else (224, 1000)
    net = CifarResNet20() if model == 'resnet20' else torchvision.models.resnet50(weights=None)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(batch, 3, side, side, generator=g)
    if kind == 'cls_infer':
        net.eval()

        def step():
            with torch.inference_mode():
                return net(x).sum().item()
    else:
        net.train()
        y = torch.randint(0, classes, (batch,), generator=g)
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            return loss.item()
    warm, wall, cpu, last = timed(step, steps)
    out = {'model': model, 'batch': batch, 'input': f'{side}x{side}', 'warmup_ms': round(warm), 'cpu_ms_per_step': round(cpu)}
    if kind == 'cls_infer':
        out.update(mode='eval, BN unfolded', ms_per_batch=round(wall), ms_per_image=round(wall / batch, 1), images_per_s=round(1000 * batch / wall, 3))
    else:
        out.update(ms_per_step=round(wall), images_per_s=round(1000 * batch / wall, 3), loss_last=round(last, 4))
    return out


# ---------------------------------------------------------------------------------------------
# Faster R-CNN (C4 / VGG-16), torchvision parts


def roi_pool_layer(size):

    class RoIPool(nn.Module):
        """RoIPool on the one stride-16 trunk map, as torchvision's RoIHeads calls its box_roi_pool."""

        def forward(self, features, proposals, image_shapes):
            return roi_pool(features['0'], proposals, (size, size), 1 / 16)

    return RoIPool()


def detector(backbone, training):
    """The trunk, RPN and RoI heads of the Faster R-CNN described in the module docstring."""

    if backbone == 'vgg16':
        vgg = torchvision.models.vgg16(weights=None)
        trunk = vgg.features[:30]  # conv1_1 ... conv5_3 + ReLU (pool5 is replaced by RoIPool)
        frozen = [trunk[i] for i in (0, 2, 5, 7)]  # conv1_1, conv1_2, conv2_1, conv2_2
        channels, pooled = 512, 7
        head = nn.Sequential(nn.Flatten(), vgg.classifier[0], nn.ReLU(), nn.Dropout(0.5), vgg.classifier[3], nn.ReLU(), nn.Dropout(0.5))
        head_channels = 4096
    else:
        net = getattr(torchvision.models, backbone)(weights=None, norm_layer=FrozenBatchNorm2d, zero_init_residual=True)
        trunk = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3)
        frozen = [net.conv1, net.bn1, net.layer1]
        channels, pooled = 1024, 14
        head = nn.Sequential(net.layer4, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        head_channels = 2048
    for m in frozen:
        m.requires_grad_(False)
    anchors = AnchorGenerator(sizes=((128, 256, 512),), aspect_ratios=((0.5, 1.0, 2.0),))
    rpn = RegionProposalNetwork(
        anchors, RPNHead(channels, anchors.num_anchors_per_location()[0]),
        fg_iou_thresh=0.7, bg_iou_thresh=0.3, batch_size_per_image=256, positive_fraction=0.5,
        pre_nms_top_n={'training': 12000, 'testing': 6000}, post_nms_top_n={'training': 2000, 'testing': 300}, nms_thresh=0.7)
    roi_heads = RoIHeads(
        roi_pool_layer(pooled), head, FastRCNNPredictor(head_channels, NUM_VOC_CLASSES + 1),
        fg_iou_thresh=0.5, bg_iou_thresh=0.5, batch_size_per_image=128, positive_fraction=0.25,
        bbox_reg_weights=(10.0, 10.0, 5.0, 5.0), score_thresh=0.05, nms_thresh=0.3, detections_per_img=100)
    model = nn.ModuleDict({'trunk': trunk, 'rpn': rpn, 'roi_heads': roi_heads})
    model.train(training)
    return model


def noise_batch(batch, height, width):
    """Seeded noise images zero-padded to multiples of 16 (as train-detector pads) and their targets."""
    g = torch.Generator().manual_seed(7)
    ph, pw = -(-height // 16) * 16, -(-width // 16) * 16
    x = torch.zeros(batch, 3, ph, pw)
    x[:, :, :height, :width] = torch.randn(batch, 3, height, width, generator=g)
    boxes = torch.tensor([[b[0] * width / 1000, b[1] * height / 600, b[2] * width / 1000, b[3] * height / 600] for b in GT_BOXES_600x1000])
    targets = [{'boxes': boxes.clone(), 'labels': torch.randint(1, NUM_VOC_CLASSES + 1, (3,), generator=g)} for _ in range(batch)]
    return ImageList(x, [(height, width)] * batch), targets


def detection(kind, backbone, batch, size, steps):
    training = kind == 'det_train'
    model = detector(backbone, training)
    images, targets = noise_batch(batch, *size)
    info = {}

    def run(targets_or_none):
        features = {'0': model['trunk'](images.tensors)}
        proposals, rpn_losses = model['rpn'](images, features, targets_or_none)
        info['proposals'] = int(proposals[0].shape[0])
        dets, head_losses = model['roi_heads'](features, proposals, images.image_sizes, targets_or_none)
        return dets, {**rpn_losses, **head_losses}

    if training:
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.SGD(params, lr=0.001, momentum=0.9, weight_decay=1e-4)
        # RoIs the head saw: count them through the pooling input (128 per image once sampled)
        pool = model['roi_heads'].box_roi_pool
        pool.register_forward_hook(lambda m, inp, out: info.__setitem__('rois', int(out.shape[0])))

        def step():
            opt.zero_grad(set_to_none=True)
            _, losses = run(targets)
            loss = sum(losses.values())
            loss.backward()
            opt.step()
            return loss.item()
    else:
        def step():
            with torch.inference_mode():
                dets, _ = run(None)
            return int(dets[0]['boxes'].shape[0])
    warm, wall, cpu, last = timed(step, steps)
    ph, pw = images.tensors.shape[-2:]
    out = {'backbone': backbone, 'batch': batch, 'input': f'{size[0]}x{size[1]}', 'padded': f'{ph}x{pw}', 'roi_op': 'pool',
           'pooled': 7 if backbone == 'vgg16' else 14, 'proposals': info['proposals'], 'warmup_ms': round(warm), 'cpu_ms_per_step': round(cpu)}
    if training:
        out.update(rois=info['rois'], anchors=256, trainable_params=sum(p.numel() for p in params), ms_per_step=round(wall),
                   images_per_s=round(1000 * batch / wall, 4), loss_last=round(last, 4) if last == last and abs(last) != float('inf') else str(last))
    else:
        out.update(bn='FrozenBatchNorm2d (unfolded)', max_detections=100, detections=last, ms_per_image=round(wall), images_per_s=round(1000 / wall, 4))
    return out


def run_child(spec, threads, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    kind, model, batch, size = parse_spec(spec)
    r = detection(kind, model, batch, size, steps) if kind.startswith('det') else classification(kind, model, batch, steps)
    r.update(case=ALIASES.get(spec, spec), threads=torch.get_num_threads(), steps=steps, peak_rss_mb=peak_rss_mb())
    print(json.dumps(r))


def run_parent(args):
    specs = [s for s in args.cases.split(',') if s]
    for s in specs:
        parse_spec(s)  # a bad spec fails before any case runs
    out = {'torch': torch.__version__, 'torchvision': torchvision.__version__, 'threads': args.threads, 'steps': args.steps,
           'mkldnn': torch.backends.mkldnn.is_available(), 'cases': {}}
    for s in specs:
        spec = ALIASES.get(s, s)
        t0 = time.perf_counter()
        try:
            p = subprocess.run([sys.executable, os.path.abspath(__file__), '--child', spec, '--threads', str(args.threads), '--steps', str(args.steps)],
                               capture_output=True, text=True, timeout=args.timeout or None)
        except subprocess.TimeoutExpired:
            p = None
        lines = p.stdout.strip().splitlines() if p else []
        if p is None:
            r = {'case': spec, 'error': f'timed out after {args.timeout:g} s (--timeout)'}
        elif p.returncode == 0 and lines and lines[-1].startswith('{'):
            r = json.loads(lines[-1])
        else:
            err = [line for line in p.stderr.strip().splitlines() if line.strip()]
            r = {'case': spec, 'error': (err[-1] if err else f'exit {p.returncode}')[:300]}
        r['wall_s'] = round(time.perf_counter() - t0, 1)
        out['cases'][spec] = r
        print(f'torch_bench: {spec}: {r.get("images_per_s", r.get("error"))}', file=sys.stderr)
    print(json.dumps(out, indent=2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', type=int, default=os.cpu_count(), help='torch.set_num_threads (default: all CPUs)')
    ap.add_argument('--steps', type=int, default=3, help='timed steps per case after one warm-up step (default 3)')
    ap.add_argument('--cases', default=DEFAULT_CASES, help=f'comma list of specs or aliases (default {DEFAULT_CASES})')
    ap.add_argument('--timeout', type=float, default=0, help='seconds per case before it is killed (default none)')
    ap.add_argument('--child', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads < 1:
        fail(f'--threads {args.threads}: expected a positive integer')
    if args.steps < 1:
        fail(f'--steps {args.steps}: expected a positive integer')
    if args.child:
        run_child(args.child, args.threads, args.steps)
    else:
        run_parent(args)


if __name__ == '__main__':
    main()
