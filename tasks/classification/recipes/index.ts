/** The classification recipes by name (`--preset`). */
import { CIFAR10 } from './cifar10.ts';
import { IMAGENET } from './imagenet.ts';
import type { ClassifierRecipe } from './types.ts';

export type { ClassifierRecipe } from './types.ts';

/** The classification recipes by name (`preset`). */
export const RECIPES = {
  cifar10: CIFAR10,
  imagenet: IMAGENET,
} as const satisfies Record<string, ClassifierRecipe>;

/** A classification recipe's name. */
export type RecipeName = keyof typeof RECIPES;
