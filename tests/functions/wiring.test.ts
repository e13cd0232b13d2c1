/** functions/wiring.ts: the handler the Lambda builds, over Powertools' DynamoDB idempotency (mocked) and the SDK's retries. */
import { createHash } from "node:crypto";
import { Batch, type BatchClientConfig, ClientException, SubmitJobCommand } from "@aws-sdk/client-batch";
import {
  type AttributeValue,
  DeleteItemCommand,
  type DeleteItemCommandInput,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { advanceUntil } from "../support/fakeTime";
import { recordingLogger } from "../support/recordingLogger";
import { IDEMPOTENCY_KEY_PREFIX } from "../../contract";
import { createTriggerHandler, StartJobSubmitError, TriggerRecordsFailedError } from "../../functions/handler";
import { computeRunId } from "../../contract/run";
import { buildTriggerHandlerFromEnv, SUBMIT_JOB_RETRY, type TriggerClientOverrides } from "../../functions/wiring";
import { BUCKET, record, s3Event, sqsEvent } from "./s3Fixtures";
import {
  batchAcceptsEverything,
  batchMock,
  conditionFailed,
  context,
  DEFINITION,
  dynamoMock,
  ENV,
  memoryIdempotency,
  MODULES,
  QUEUE,
  remockBatch,
  resetMocksBetweenTests,
  STACK,
  submitted,
  TABLE,
} from "./triggerFixtures";

resetMocksBetweenTests();

// Real Powertools over a mocked DynamoDB

type Item = Record<string, AttributeValue>;
const num = (v: AttributeValue | undefined) => (v && "N" in v ? Number(v.N) : undefined);

/**
 * A DynamoDB table behind the mock that honours what Powertools relies on: PutItem's condition
 * (absent, expired, or an expired in-progress claim) with ReturnValuesOnConditionCheckFailure ALL_OLD,
 * UpdateItem `SET a = :v, …`, DeleteItem.
 */
function dynamoTable(): Map<string, Item> {
  const items = new Map<string, Item>();
  dynamoMock.on(PutItemCommand).callsFake(async (input: PutItemCommandInput) => {
    const id = (input.Item!.id as { S: string }).S;
    const existing = items.get(id);
    const now = num(input.ExpressionAttributeValues![":now"])!;
    const nowMs = num(input.ExpressionAttributeValues![":now_in_millis"])!;
    const claimable =
      !existing ||
      num(existing.expiration)! < now ||
      ((existing.status as { S: string }).S === "INPROGRESS" && existing.in_progress_expiration !== undefined && num(existing.in_progress_expiration)! < nowMs);
    if (!claimable) {
      throw conditionFailed(existing);
    }
    items.set(id, input.Item!);
    return { $metadata: {} };
  });
  dynamoMock.on(UpdateItemCommand).callsFake(async (input: UpdateItemCommandInput) => {
    const id = (input.Key!.id as { S: string }).S;
    const item: Item = { ...(items.get(id) ?? input.Key!) };
    for (const assignment of input.UpdateExpression!.replace(/^SET\s+/, "").split(",")) {
      const [name, value] = assignment.split("=").map((s) => s.trim());
      item[input.ExpressionAttributeNames![name!]!] = input.ExpressionAttributeValues![value!]!;
    }
    items.set(id, item);
    return { $metadata: {} };
  });
  dynamoMock.on(DeleteItemCommand).callsFake(async (input: DeleteItemCommandInput) => {
    items.delete((input.Key!.id as { S: string }).S);
    return { $metadata: {} };
  });
  return items;
}

/** The partition key Powertools writes for a run id: `<prefix>#<md5 base64 of the JSON payload>`. */
const idempotencyKey = (runId: string) => `${IDEMPOTENCY_KEY_PREFIX}#${createHash("md5").update(JSON.stringify(runId)).digest("base64")}`;

function powertoolsHandler(overrides: TriggerClientOverrides = {}) {
  const log = recordingLogger();
  return { handler: buildTriggerHandlerFromEnv(ENV, MODULES, { log, ...overrides }), log };
}

describe("buildTriggerHandlerFromEnv: Powertools idempotency over DynamoDB (mocked)", () => {
  it("given a first delivery, claims the run id with a conditional PutItem, submits, then stores the job", async () => {
    batchAcceptsEverything();
    const table = dynamoTable();
    const { handler } = powertoolsHandler();
    const runId = await computeRunId({ bucket: BUCKET, key: "incoming/p.csv", versionId: "v1" });
    const before = Date.now();

    await handler(s3Event(record("incoming/p.csv", { versionId: "v1" })), context);

    expect(dynamoMock.calls().map((c) => c.args[0].constructor.name)).toEqual(["PutItemCommand", "UpdateItemCommand"]);
    const put = dynamoMock.commandCalls(PutItemCommand)[0]!.args[0].input;
    expect(put.TableName).toBe(TABLE);
    expect(put.Item!.id).toEqual({ S: idempotencyKey(runId) });
    expect(put.Item!.status).toEqual({ S: "INPROGRESS" });
    expect(put.ConditionExpression).toContain("attribute_not_exists(#id)");
    // The claim expires with the invocation (registerLambdaContext), the record after IDEMPOTENCY_TTL_SECONDS.
    expect(num(put.Item!.in_progress_expiration)).toBeGreaterThanOrEqual(before + 30_000);
    expect(num(put.Item!.expiration)).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 3600);
    expect(submitted()).toHaveLength(1);
    const stored = table.get(idempotencyKey(runId))!;
    expect(stored.status).toEqual({ S: "COMPLETED" });
    expect(stored.data).toEqual({
      M: {
        runId: { S: runId },
        jobId: { S: "job-1" },
        jobName: { S: submitted()[0]!.jobName },
        jobArn: { S: "arn:aws:batch:eu-west-1:123456789012:job/job-1" },
      },
    });
  });

  it("given a second delivery, its PutItem fails the condition and it returns the stored job without submitting", async () => {
    batchAcceptsEverything();
    dynamoTable();
    const { handler, log } = powertoolsHandler();
    const event = s3Event(record("incoming/p.csv", { versionId: "v1" }));

    const first = await handler(event, context);
    dynamoMock.resetHistory();
    batchMock.resetHistory();
    const second = await handler(event, context);

    expect(submitted()).toEqual([]);
    expect(dynamoMock.calls().map((c) => c.args[0].constructor.name)).toEqual(["PutItemCommand"]);
    expect(second.jobs).toEqual([{ ...first.jobs[0], status: "duplicate" }]);
    expect(log.lines.at(-1)!.message).toBe("start job already submitted for this object version");
  });

  // trigger.delivery: queue. A standard queue delivers at least once (SQS developer guide, "Amazon SQS at-least-once
  // delivery"): the same notification in two messages of one batch, then again in a later batch.
  it("given an SQS batch with one object version in two messages, then the message again, claims and submits once", async () => {
    batchAcceptsEverything();
    dynamoTable();
    const { handler } = powertoolsHandler();
    const notification = s3Event(record("incoming/p.csv", { versionId: "v1" }));

    expect(await handler(sqsEvent(notification, notification), context)).toEqual({ batchItemFailures: [] });
    expect(dynamoMock.calls().map((c) => c.args[0].constructor.name)).toEqual(["PutItemCommand", "UpdateItemCommand"]);
    dynamoMock.resetHistory();
    expect(await handler(sqsEvent({ messageId: "m-later", body: notification }), context)).toEqual({ batchItemFailures: [] });
    expect(dynamoMock.calls().map((c) => c.args[0].constructor.name)).toEqual(["PutItemCommand"]);
    expect(submitted()).toHaveLength(1);
  });

  it("given DynamoDB returns the stored COMPLETED item with the condition failure, trusts it (no GetItem, no SubmitJob)", async () => {
    const runId = await computeRunId({ bucket: BUCKET, key: "incoming/q.csv", versionId: "v2" });
    const stored = { runId, jobId: "job-earlier", jobName: `start-q-csv-${runId}` };
    dynamoMock.on(PutItemCommand).rejects(
      conditionFailed({
        id: { S: idempotencyKey(runId) },
        status: { S: "COMPLETED" },
        expiration: { N: String(Math.floor(Date.now() / 1000) + 3600) },
        data: { M: { runId: { S: runId }, jobId: { S: "job-earlier" }, jobName: { S: stored.jobName } } },
      }),
    );
    const { handler } = powertoolsHandler();

    const result = await handler(s3Event(record("incoming/q.csv", { versionId: "v2" })), context);

    expect(submitted()).toEqual([]);
    expect(dynamoMock.commandCalls(GetItemCommand)).toEqual([]);
    expect(result.jobs).toEqual([{ ...stored, status: "duplicate", bucket: BUCKET, key: "incoming/q.csv", versionId: "v2" }]);
  });

  it("given another invocation is submitting the same version right now, fails the record so Lambda retries it later", async () => {
    const runId = await computeRunId({ bucket: BUCKET, key: "incoming/r.csv", versionId: "v3" });
    dynamoMock.on(PutItemCommand).rejects(
      conditionFailed({
        id: { S: idempotencyKey(runId) },
        status: { S: "INPROGRESS" },
        expiration: { N: String(Math.floor(Date.now() / 1000) + 3600) },
        in_progress_expiration: { N: String(Date.now() + 60_000) },
      }),
    );
    const { handler } = powertoolsHandler();

    const error = await handler(s3Event(record("incoming/r.csv", { versionId: "v3" })), context).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TriggerRecordsFailedError);
    const failure = (error as TriggerRecordsFailedError).failures[0]!;
    expect(failure.error).toBeInstanceOf(StartJobSubmitError);
    expect((failure.error.cause as Error).name).toBe("IdempotencyAlreadyInProgressError");
    expect(submitted()).toEqual([]);
  });

  it("given SubmitJob fails, releases the claim (DeleteItem) so the retried event submits it", async () => {
    const table = dynamoTable();
    batchMock.on(SubmitJobCommand).rejectsOnce(new ClientException({ message: "Job queue is disabled", $metadata: {} }));
    const { handler } = powertoolsHandler();
    const event = s3Event(record("incoming/s.csv", { versionId: "v4" }));

    await expect(handler(event, context)).rejects.toThrow(/Job queue is disabled/);
    expect(dynamoMock.commandCalls(DeleteItemCommand)).toHaveLength(1);
    expect(table.size).toBe(0);

    batchAcceptsEverything();
    const retried = await handler(event, context);
    expect(retried.jobs.map((j) => j.status)).toEqual(["submitted"]);
  });
});

// Throttling: a real Batch client (mocks bypass the SDK's retry middleware) over a fake HTTP handler

type RequestHandler = NonNullable<BatchClientConfig["requestHandler"]>;
type RetryStrategy = NonNullable<BatchClientConfig["retryStrategy"]>;

/** Answers SubmitJob with HTTP 429 TooManyRequestsException `throttles` times, then 200. */
function throttlingEndpoint(throttles: number) {
  const attempts: { path: string; jobName: string }[] = [];
  const handler = {
    async handle(request: { path: string; body?: unknown }) {
      const raw = request.body instanceof Uint8Array ? new TextDecoder().decode(request.body) : String(request.body);
      const body = JSON.parse(raw) as { jobName: string };
      attempts.push({ path: request.path, jobName: body.jobName });
      const throttled = attempts.length <= throttles;
      const payload = throttled
        ? { __type: "TooManyRequestsException", message: "Too Many Requests" }
        : { jobId: "job-after-throttle", jobName: body.jobName, jobArn: "arn:aws:batch:eu-west-1:123456789012:job/job-after-throttle" };
      return {
        response: { statusCode: throttled ? 429 : 200, headers: { "content-type": "application/json" }, body: new TextEncoder().encode(JSON.stringify(payload)) },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
  return { attempts, requestHandler: handler as unknown as RequestHandler };
}

/** The SDK's retry contract with a 1 ms backoff, retrying exactly what the SDK classifies as retryable. */
function fastRetry(maxAttempts: number): RetryStrategy {
  const token = (count: number) => ({ getRetryCount: () => count, getRetryDelay: () => 1 });
  return {
    mode: "standard",
    acquireInitialRetryToken: async () => token(0),
    refreshRetryTokenForRetry: async (previous: ReturnType<typeof token>, info: { errorType: string }) => {
      const next = previous.getRetryCount() + 1;
      if (next >= maxAttempts || (info.errorType !== "THROTTLING" && info.errorType !== "TRANSIENT")) throw new Error("No retry token available");
      return token(next);
    },
    recordSuccess: () => {},
  } as unknown as RetryStrategy;
}

const offline = { region: "eu-west-1", credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" } };

describe("throttled SubmitJob", () => {
  beforeEach(() => {
    // These tests need the real client stack, not the mock.
    batchMock.restore();
  });
  afterEach(() => {
    remockBatch();
  });

  function handlerOver(endpoint: ReturnType<typeof throttlingEndpoint>, batch: Partial<BatchClientConfig>) {
    return createTriggerHandler({
      batch: new Batch({ ...SUBMIT_JOB_RETRY, ...offline, requestHandler: endpoint.requestHandler, ...batch }),
      idempotency: memoryIdempotency(),
      config: { target: { jobQueue: QUEUE, jobDefinition: DEFINITION, stack: STACK }, bucket: BUCKET, filter: { prefix: "incoming/", suffix: "" } },
      log: recordingLogger(),
    });
  }

  it("given two 429s then success, retries in the client and submits once", async () => {
    const endpoint = throttlingEndpoint(2);
    const handler = handlerOver(endpoint, { retryStrategy: fastRetry(3) });

    const result = await handler(s3Event(record("incoming/t.csv", { versionId: "v" })), context);

    expect(endpoint.attempts).toHaveLength(3);
    expect(endpoint.attempts.every((a) => a.path === "/v1/submitjob" && a.jobName === endpoint.attempts[0]!.jobName)).toBe(true);
    expect(result.jobs).toMatchObject([{ status: "submitted", jobId: "job-after-throttle" }]);
  });

  it("given it keeps throttling, gives up after maxAttempts and throws TooManyRequestsException as the cause", async () => {
    const endpoint = throttlingEndpoint(Number.POSITIVE_INFINITY);
    const handler = handlerOver(endpoint, { retryStrategy: fastRetry(3) });

    const error = await handler(s3Event(record("incoming/t.csv", { versionId: "v" })), context).catch((e: unknown) => e);

    expect(endpoint.attempts).toHaveLength(3);
    expect(error).toBeInstanceOf(TriggerRecordsFailedError);
    const cause = (error as TriggerRecordsFailedError).failures[0]!.error.cause as Error & { $metadata: { httpStatusCode: number; attempts: number } };
    expect(cause.name).toBe("TooManyRequestsException");
    expect(cause.$metadata).toMatchObject({ httpStatusCode: 429, attempts: 3 });
  });

  it("given the production retry settings (adaptive, 5 attempts), makes 5 attempts before throwing", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const endpoint = throttlingEndpoint(Number.POSITIVE_INFINITY);
    const handler = buildTriggerHandlerFromEnv(ENV, MODULES, { batch: { ...offline, requestHandler: endpoint.requestHandler }, log: recordingLogger() });
    dynamoTable();

    let settled = false;
    const outcome = handler(s3Event(record("incoming/t.csv", { versionId: "v" })), context).then(
      (r) => ((settled = true), r),
      (e: unknown) => ((settled = true), e),
    );
    // Backoff and the adaptive rate limiter wait on timers, the run id's hash on the thread pool:
    // advance virtual time, and let real work finish, until it gives up.
    await advanceUntil(() => settled);

    expect(settled).toBe(true);
    expect(endpoint.attempts).toHaveLength(SUBMIT_JOB_RETRY.maxAttempts);
    expect(await outcome).toBeInstanceOf(TriggerRecordsFailedError);
    // The failed claim was released, so Lambda's retry of the event can submit.
    expect(dynamoMock.commandCalls(DeleteItemCommand)).toHaveLength(1);
  });
});
