/** Fargate's task sizes: pure, shared by the stack config (preview-time errors) and the job definitions. */
import type { ArgsProblem } from "./argsError";

export const FARGATE_MEMORY_MIB: Record<string, [min: number, max: number, step: number]> = {
  "0.25": [512, 2048, 512],
  "0.5": [1024, 4096, 1024],
  "1": [2048, 8192, 1024],
  "2": [4096, 16384, 1024],
  "4": [8192, 30720, 1024],
  "8": [16384, 61440, 4096],
  "16": [32768, 122880, 8192],
};

// Object.keys would list "1" before "0.25" (integer-like keys first), so keep the order explicit.
export const FARGATE_VCPUS = Object.keys(FARGATE_MEMORY_MIB).map(Number).sort((x, y) => x - y);

/**
 * Why `vcpus`/`memoryMiB` is not a size Fargate runs, or undefined when it is. Shared with the stack
 * config, so a bad size fails `pulumi preview` naming the config key.
 */
export function fargateSizeProblem(vcpus: number, memoryMiB: number): ArgsProblem<"vcpus" | "memoryMiB"> | undefined {
  const range = FARGATE_MEMORY_MIB[String(vcpus)];
  if (!range) return { field: "vcpus", rule: `Fargate accepts ${FARGATE_VCPUS.join(", ")} vCPUs` };
  const [min, max, step] = range;
  if (vcpus === 0.25) {
    // The one irregular row: 512, 1024 or 2048, not 1536.
    return [512, 1024, 2048].includes(memoryMiB) ? undefined : { field: "memoryMiB", rule: "Fargate with 0.25 vCPU accepts 512, 1024 or 2048 MiB" };
  }
  if (memoryMiB < min || memoryMiB > max || (memoryMiB - min) % step !== 0) {
    return { field: "memoryMiB", rule: `Fargate with ${vcpus} vCPU accepts ${min} to ${max} MiB in steps of ${step}` };
  }
  return undefined;
}
