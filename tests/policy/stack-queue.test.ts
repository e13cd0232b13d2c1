/**
 * The policy pack against the queue delivery (`trigger.delivery: queue`, tests/support/stacks.ts QUEUE_STACK):
 * every policy passes, and a mapping without partial batch responses or a maximum concurrency, or a queue
 * without a redrive policy, each fails lambda-sqs-event-source-mapping with exactly its message.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { resourcePrefix } from "../../stack/naming";
import { PROJECT, STACK } from "../mocks";
import { QUEUE_STACK } from "../support/stacks";
import { loadStack, named, runPack, type StackResource, variant } from "./support";

const P = resourcePrefix(PROJECT, STACK);
const MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping";
const QUEUE = "aws:sqs/queue:Queue";
let stack: StackResource[];

beforeAll(async () => {
  stack = await loadStack(QUEUE_STACK);
});

const violation = (name: string, type: string, message: string) => [{ policy: "lambda-sqs-event-source-mapping", level: "mandatory", message, urn: named(stack, type, name).urn }];

describe("the queue delivery stack", () => {
  it("passes every policy of the pack, the mapping found reading the trigger's queue by its eventSourceArn input", async () => {
    const mapping = named(stack, MAPPING, "-trigger-queue-mapping");
    expect(mapping.propertyDependencies.eventSourceArn).toEqual([named(stack, QUEUE, "-trigger-queue").urn]);
    expect(await runPack(stack)).toEqual([]);
  });

  it.each([
    [
      "does not report batch item failures",
      "functionResponseTypes",
      `functionResponseTypes does not include "ReportBatchItemFailures", so one failed message returns its whole batch to the queue and the others are processed again; set functionResponseTypes: ["ReportBatchItemFailures"] and have the function return { batchItemFailures }.`,
    ],
    [
      "has no maximum concurrency",
      "scalingConfig",
      "scalingConfig.maximumConcurrency is not set, so Lambda scales the mapping up to 1,000 concurrent batches, beyond the function's reserved concurrency (throttled batches go back to the queue); set scalingConfig.maximumConcurrency, 2 to 1,000 and at most the function's reserved concurrency.",
    ],
  ])("fails a mapping that %s", async (_what, property, message) => {
    const bad = variant(stack, `${P}-trigger-queue-mapping`, (props) => delete props[property]);
    expect(await runPack(bad)).toEqual(violation("-trigger-queue-mapping", MAPPING, `EventSourceMapping "${P}-trigger-queue-mapping": ${message}`));
  });

  it("fails the queue a mapping reads when it has no redrive policy", async () => {
    const bad = variant(stack, `${P}-trigger-queue`, (props, r) => {
      if (r.type === QUEUE) delete props.redrivePolicy;
    });
    expect(await runPack(bad)).toEqual(
      violation(
        "-trigger-queue",
        QUEUE,
        `Queue "${P}-trigger-queue": redrivePolicy is not set, though EventSourceMapping "${P}-trigger-queue-mapping" reads it, so a message that keeps failing is received again until its retention period ends and is then deleted unseen; set redrivePolicy to a dead-letter queue with maxReceiveCount of at least 5.`,
      ),
    );
  });
});
