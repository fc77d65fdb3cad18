/** The paper's training recipes, by name. */
import { COCO_RECIPE } from './coco.ts';
import type { DetectionRecipe } from './types.ts';
import { VOC_RECIPE } from './voc.ts';

export type { DetectionRecipe } from './types.ts';

export const PRESETS = { voc: VOC_RECIPE, coco: COCO_RECIPE } as const satisfies Record<string, DetectionRecipe>;

export type PresetName = keyof typeof PRESETS;
