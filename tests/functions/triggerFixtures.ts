/** What the trigger's tests share: mocked clients, the Lambda environment, an in-memory idempotency store. */
import { Batch, BatchClient, SubmitJobCommand, type SubmitJobCommandInput } from "@aws-sdk/client-batch";
import { type AttributeValue, ConditionalCheckFailedException, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, vi } from "vitest";
import { recordingLogger } from "../support/recordingLogger";
import { TRIGGER_ENV } from "../../contract";
import { createTriggerHandler } from "../../functions/handler";
import { memoryIdempotency } from "../support/memoryIdempotency";
import { BUCKET } from "./s3Fixtures";

export let batchMock = mockClient(BatchClient);

/** Mocks BatchClient again after a test restored the real one. */
export function remockBatch(): void {
  batchMock = mockClient(BatchClient);
}

/** What DynamoDB throws when Powertools' conditional PutItem finds a live record (ALL_OLD returns it). */
export const conditionFailed = (Item: Record<string, AttributeValue>) =>
  new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: { httpStatusCode: 400 }, Item });

export const dynamoMock = mockClient(DynamoDBClient);

export const QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/start";
export const DEFINITION = "pipeline-start";
export const TABLE = "trigger-idempotency";
export const STACK = "batch-pipeline-test-1a2b3c";
export const ENV = {
  [TRIGGER_ENV.startQueue]: QUEUE,
  [TRIGGER_ENV.startJobDefinition]: DEFINITION,
  [TRIGGER_ENV.idempotencyTable]: TABLE,
  [TRIGGER_ENV.stack]: STACK,
  [TRIGGER_ENV.idempotencySeconds]: "3600",
  [TRIGGER_ENV.ignorePrefix]: "results/",
  [TRIGGER_ENV.bucket]: BUCKET,
  [TRIGGER_ENV.keyPrefix]: "incoming/",
};
export const MODULES = { Batch, DynamoDBClient, makeIdempotent, IdempotencyConfig, DynamoDBPersistenceLayer };
export const context = { functionName: "trigger", awsRequestId: "req-1", getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

export { memoryIdempotency };

/** Batch answers each SubmitJob with a new job id, like the service. */
export function batchAcceptsEverything(): void {
  let n = 0;
  batchMock.on(SubmitJobCommand).callsFake(async (input: SubmitJobCommandInput) => {
    n++;
    return { jobId: `job-${n}`, jobName: input.jobName, jobArn: `arn:aws:batch:eu-west-1:123456789012:job/job-${n}`, $metadata: {} };
  });
}

export const submitted = (): SubmitJobCommandInput[] => batchMock.commandCalls(SubmitJobCommand).map((c) => c.args[0].input);

/** Which keys the stack's trigger takes in these tests (of the fixtures' bucket): under incoming/, never under results/. */
export const KEY_FILTER = { prefix: "incoming/", suffix: "", outputPrefix: "results/" };

export function memoryHandler(log = recordingLogger(), filter = KEY_FILTER) {
  const idempotency = memoryIdempotency();
  const handler = createTriggerHandler({
    batch: new Batch({ region: "eu-west-1" }),
    idempotency,
    config: { target: { jobQueue: QUEUE, jobDefinition: DEFINITION, stack: STACK }, bucket: BUCKET, filter },
    log,
  });
  return { handler, idempotency, log };
}

/** Resets the mocks before each test and the clock after it; call once at the top of a test file. */
export function resetMocksBetweenTests(): void {
  beforeEach(() => {
    batchMock.reset();
    dynamoMock.reset();
  });

  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });
}
