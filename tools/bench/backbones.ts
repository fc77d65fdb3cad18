/**
 * `npm run bench:backbones`: builds every registered backbone and prints one JSON object with its
 * parameter count, its multiply-adds for one image (conv + fc MACs, backbones/flops.ts: 224x224
 * for ImageNet nets, 32x32 for CIFAR nets), its stages ({channels, stride}) and, for the
 * bottleneck ResNets, the MACs with the stride-2 on the first 1x1 (the paper's Table 1 models).
 * Nothing is run through the networks; building them (random initialisation) is the slow part.
 */
import { initBackend } from '../../src/backend/index.ts';
import { BACKBONE_NAMES, createBackbone } from '../../backbones/index.ts';
import { countMacs } from '../../backbones/flops.ts';

await initBackend();
const out: Record<string, unknown> = {};
for (const name of BACKBONE_NAMES) {
  const net = createBackbone(name);
  const cifar = net.stageNames.length === 4;
  const size = cifar ? 32 : 224;
  const macs = countMacs(net, { h: size, w: size, c: 3 }).macs;
  const row: Record<string, unknown> = { params: net.numParameters(), input: size, macs, stages: net.outputShape };
  net.dispose();
  if (/^resnet(50|101|152)$/.test(name)) {
    const msra = createBackbone(name, { strideInFirst1x1: true });
    row.macsStrideInFirst1x1 = countMacs(msra, { h: 224, w: 224, c: 3 }).macs;
    msra.dispose();
  }
  out[name] = row;
}
console.log(JSON.stringify(out, null, 1));
