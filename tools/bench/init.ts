/**
 * `npm run bench:init [-- --repeats N] [--models a,b]`: how long building a backbone takes (its
 * random initialisation: He-normal convs, PyTorch-uniform linears, src/nn/layers.ts), printed as
 * one JSON object. Per model: parameters, and the median over N builds (default 3) of the wall
 * time and of this process's CPU time (user + system, process.cpuUsage), the second being the
 * steadier number on a machine shared with other work. VGG-16's fc6 (25088 x 4096) dominates.
 * `none_*`: the same with `init: 'none'` (no draws, zeros), how `detect`, `evaluate` and
 * `classify` build a network whose weights they load next.
 */
import { initBackend } from '../../src/backend/index.ts';
import { createBackbone } from '../../backbones/index.ts';
import type { WeightInit } from '../../src/random.ts';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const repeats = Number(flag('--repeats') ?? 3);
const models = (flag('--models') ?? 'vgg16,resnet50,resnet18').split(',');

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

await initBackend();
const out: Record<string, unknown> = {};
for (const name of models) {
  let params = 0;
  const time = (init: WeightInit): { wall: number; cpu: number } => {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const net = createBackbone(name, { seed: r, init });
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      params = net.numParameters();
      net.dispose();
    }
    return { wall: Math.round(median(wall)), cpu: Math.round(median(cpu)) };
  };
  const random = time('random');
  const none = time('none');
  out[name] = { params, build_ms: random.wall, build_cpu_ms: random.cpu, none_build_ms: none.wall, none_build_cpu_ms: none.cpu, repeats };
}
console.log(JSON.stringify(out));
