/**
 * The named stack configurations the tests load under Pulumi mocks (tests/mocks.ts): each variant once, so the
 * stack tests (tests/infra/) and the policy pack's (tests/policy/) deploy the very same stacks.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { PROJECT } from "../mocks";

/** A stack file's `batch-pipeline:` config, keys without the namespace (what setupPulumiMocks takes). */
export function stackFileConfig(file: string): Record<string, unknown> {
  const doc = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(doc.config ?? {})
      .filter(([k]) => k.startsWith(`${PROJECT}:`))
      .map(([k, v]) => [k.slice(PROJECT.length + 1), v]),
  );
}

/** Every process job on Fargate (Spot first) in the default VPC, array children's states not logged. */
export const FARGATE_STACK = {
  compute: { fargate: { enabled: true, spotFirst: true } },
  processQueue: "fargate",
  notifications: { arrayChildStates: false },
  jobDefinitions: { process: { image: "public.ecr.aws/docker/library/busybox:1.37", command: ["echo", "hello world"], vcpus: 0.5, memoryMiB: 1024 } },
} as const;

/** The example production stack (Pulumi.prod.yaml): a new VPC, Fargate, a third queue, bigger sizes. */
export const prodStack = () => stackFileConfig("Pulumi.prod.yaml");

/**
 * S3 → SQS → the trigger through an event source mapping (`trigger.delivery: queue`), polled at most 5 at once,
 * with a suffix filter the queue notification must carry.
 */
export const QUEUE_STACK = { trigger: { delivery: "queue", queueMaxConcurrency: 5, suffix: ".csv" } } as const;

/**
 * `orchestrator.mode: inline`: the trigger plans each run and submits its DAG itself (functions/inline.ts), no
 * start job; its role gains the process queue and definitions and loses the start queue's grant.
 */
export const INLINE_STACK = { orchestrator: { mode: "inline" } } as const;

/**
 * `orchestrator.mode: auto`: the trigger submits a plan of at most 20 SubmitJob calls itself, a larger one gets a
 * start job; its role keeps the start queue's grant and gains the process queue's.
 */
export const AUTO_STACK = { orchestrator: { mode: "auto" } } as const;
