/** The paper's training recipes, by name. */
import { COCO_RECIPE } from './coco.ts';
import type { DetectionRecipe } from './types.ts';
import { VOC_RECIPE } from './voc.ts';

export type { DetectionRecipe } from './types.ts';

/** The paper's detection recipes (VOC, COCO) by name. */
export const PRESETS = { voc: VOC_RECIPE, coco: COCO_RECIPE } as const satisfies Record<string, DetectionRecipe>;

/** A name of PRESETS. */
export type PresetName = keyof typeof PRESETS;
