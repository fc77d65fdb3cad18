"""Parity of the Keras import path (keras-applications ResNet50 layout) with a PyTorch model of
the same function: stride-2 on the bottleneck's first 1x1, convolutions with biases, BN epsilon
1e-3, Caffe preprocessing (BGR minus the mean pixel). Keras itself is not needed: the weights are
random, written to HDF5 the way Keras' save_weights lays them out (kernels HWIO, Dense [in, out]).

    OUT=/tmp/resdet-parity
    /usr/bin/python3 tools/parity/keras_resnet50_parity.py make $OUT ../shared/data
    npx resdet classify --model resnet50 --weights $OUT/keras-resnet50.h5 --preprocess caffe \
      $OUT/image-224.png --json > $OUT/keras-resnet50-resdet.json
    /usr/bin/python3 tools/parity/keras_resnet50_parity.py compare $OUT
"""
import json
import os
import sys

import h5py
import numpy as np
import torch
import torchvision
from PIL import Image


def build():
    torch.manual_seed(2)
    net = torchvision.models.resnet50()
    for layer in [net.layer2, net.layer3, net.layer4]:
        b = layer[0]
        b.conv1.stride, b.conv2.stride = (2, 2), (1, 1)  # stride in the first 1x1 (MSRA / Keras)
    # Every conv gets a bias (Keras Conv2D default), every BN epsilon 1e-3 (Keras default).
    for name, m in list(net.named_modules()):
        for cname, c in list(m.named_children()):
            if isinstance(c, torch.nn.Conv2d):
                c.bias = torch.nn.Parameter(torch.randn(c.out_channels) * 0.1)
            if isinstance(c, torch.nn.BatchNorm2d):
                c.eps = 1e-3
                with torch.no_grad():
                    c.weight.uniform_(0.5, 1.5)
                    c.bias.normal_(0, 0.2)
                    c.running_mean.normal_(0, 0.2)
                    c.running_var.uniform_(0.5, 2.0)
    return net.eval()


def keras_names():
    """(keras conv, keras bn, torch conv, torch bn) for every conv."""
    out = [('conv1', 'bn_conv1', 'conv1', 'bn1')]
    for s, blocks in enumerate([3, 4, 6, 3]):
        for b in range(blocks):
            base = f'{s + 2}{chr(97 + b)}'
            tb = f'layer{s + 1}.{b}'
            for k, br in enumerate(['2a', '2b', '2c']):
                out.append((f'res{base}_branch{br}', f'bn{base}_branch{br}', f'{tb}.conv{k + 1}', f'{tb}.bn{k + 1}'))
            if b == 0:
                out.append((f'res{base}_branch1', f'bn{base}_branch1', f'{tb}.downsample.0', f'{tb}.downsample.1'))
    return out


def make(out, data):
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, 'image-224.png')
    if not os.path.exists(path):
        src = Image.open(os.path.join(data, 'raccoon/images/raccoon-1.jpg')).convert('RGB')
        w, h = src.size
        s = min(w, h)
        src.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)).resize((224, 224), Image.BILINEAR).save(path)
    net = build()
    sd = net.state_dict()
    f = h5py.File(os.path.join(out, 'keras-resnet50.h5'), 'w')
    layers = []

    def layer(name, weights):
        g = f.create_group(name)
        g.attrs['weight_names'] = [f'{name}/{w}:0'.encode() for w, _ in weights]
        for w, v in weights:
            g.create_dataset(f'{name}/{w}:0', data=v.astype(np.float32))
        layers.append(name)

    for kc, kb, tc, tb in keras_names():
        layer(kc, [('kernel', sd[f'{tc}.weight'].permute(2, 3, 1, 0).numpy()), ('bias', sd[f'{tc}.bias'].numpy())])
        layer(kb, [('gamma', sd[f'{tb}.weight'].numpy()), ('beta', sd[f'{tb}.bias'].numpy()),
                   ('moving_mean', sd[f'{tb}.running_mean'].numpy()), ('moving_variance', sd[f'{tb}.running_var'].numpy())])
    layer('fc1000', [('kernel', sd['fc.weight'].t().numpy()), ('bias', sd['fc.bias'].numpy())])
    f.attrs['layer_names'] = [n.encode() for n in layers]
    f.close()
    bgr = np.asarray(Image.open(path).convert('RGB'), dtype=np.float32)[:, :, ::-1] - [103.939, 116.779, 123.68]
    x = torch.from_numpy(bgr.astype(np.float32).transpose(2, 0, 1).copy())[None]
    with torch.no_grad():
        logits = net(x)[0]
    json.dump({'logits': logits.tolist()}, open(os.path.join(out, 'keras-resnet50-torch.json'), 'w'))


def compare(out):
    ref = np.array(json.load(open(os.path.join(out, 'keras-resnet50-torch.json')))['logits'])
    got = np.array(json.load(open(os.path.join(out, 'keras-resnet50-resdet.json')))['results'][0]['logits'])
    diff, scale = np.abs(got - ref).max(), np.abs(ref).max()
    print(json.dumps({'model': 'keras-resnet50', 'max_abs_diff': float(diff), 'max_abs_logit': float(scale),
                      'relative': float(diff / scale), 'pass_1e-4': bool(diff <= 1e-4 * scale),
                      'same_top5': np.argsort(-ref)[:5].tolist() == np.argsort(-got)[:5].tolist()}))


if __name__ == '__main__':
    make(sys.argv[2], sys.argv[3]) if sys.argv[1] == 'make' else compare(sys.argv[2])
