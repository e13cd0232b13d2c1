/**
 * How wide a step is: its width spec, the bound on it and the number of tasks it resolves to for an input.
 * No zod: the planner needs only this of the spec (and the spec's types), and the planner is serialized by
 * value (no npm value, no Node builtin); `spec.ts` validates widths with zod against the same bound.
 */
import type { InputObject } from "../contract";

/**
 * Upper bound on a step's width. Batch holds at most 1,000,000 jobs in SUBMITTED per queue, and every
 * array child counts, so a wider step could never be queued at once.
 */
export const MAX_STEP_WIDTH = 1_000_000;

/**
 * How many tasks a step has. Either fixed, or derived from the input object's size: one task per
 * `perChunkBytes` bytes, clamped to `[min, max]`.
 */
export type WidthSpec =
  | {
      /** Exact number of tasks. */
      fixed: number;
    }
  | {
      /** One task per this many bytes of the input object (rounded up). */
      perChunkBytes: number;
      /**
       * Fewest tasks, also the width of a zero-byte object.
       * @default 1
       */
      min?: number;
      /**
       * Most tasks.
       * @default MAX_STEP_WIDTH (1,000,000)
       */
      max?: number;
    };

/**
 * The number of tasks a step has for this input: fixed, or `ceil(sizeBytes / perChunkBytes)` clamped to
 * `[min ?? 1, max ?? MAX_STEP_WIDTH]` (so a zero-byte object gets `min`).
 */
export function resolveWidth(step: { width: WidthSpec }, input: Pick<InputObject, "sizeBytes">): number {
  const w = step.width;
  if ("fixed" in w) return w.fixed;
  const min = w.min ?? 1;
  const max = w.max ?? MAX_STEP_WIDTH;
  return Math.min(max, Math.max(min, Math.ceil(input.sizeBytes / w.perChunkBytes)));
}
