import { createHash } from "node:crypto";
import { Batch, BatchClient, type BatchClientConfig, ClientException, SubmitJobCommand, type SubmitJobCommandInput } from "@aws-sdk/client-batch";
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DeleteItemCommandInput,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { advanceUntil } from "../support/fakeTime";
import { recordingLogger } from "../support/recordingLogger";
import { IDEMPOTENCY_KEY_PREFIX, MAX_TAGS_PER_JOB, PIPELINE_TAG_COUNT, STACK_ENV, TAG_KEYS, TRIGGER_ENV } from "../../contract";
import { computeRunId } from "../../functions/startRequest";
import {
  buildTriggerHandler,
  buildTriggerHandlerFromEnv,
  createTriggerHandler,
  DEFAULT_IDEMPOTENCY_SECONDS,
  parseTriggerSettings,
  type RecordIdempotency,
  StartJobSubmitError,
  type StoredStartJob,
  SUBMIT_JOB_RETRY,
  type TriggerClientOverrides,
  TriggerConfigError,
  TriggerRecordsFailedError,
} from "../../functions/handler";
import { BUCKET, eventBridge, record, s3Event, testEvent } from "./s3Fixtures";

let batchMock = mockClient(BatchClient);

/** What DynamoDB throws when Powertools' conditional PutItem finds a live record (ALL_OLD returns it). */
const conditionFailed = (Item: Record<string, AttributeValue>) =>
  new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: { httpStatusCode: 400 }, Item });

const dynamoMock = mockClient(DynamoDBClient);

const QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/start";
const DEFINITION = "pipeline-start";
const TABLE = "trigger-idempotency";
const STACK = "batch-pipeline-test-1a2b3c";
const ENV = {
  [TRIGGER_ENV.startQueue]: QUEUE,
  [TRIGGER_ENV.startJobDefinition]: DEFINITION,
  [TRIGGER_ENV.idempotencyTable]: TABLE,
  [TRIGGER_ENV.stack]: STACK,
  [TRIGGER_ENV.idempotencySeconds]: "3600",
  [TRIGGER_ENV.ignorePrefix]: "results/",
};
const MODULES = { Batch, DynamoDBClient, makeIdempotent, IdempotencyConfig, DynamoDBPersistenceLayer };
const context = { functionName: "trigger", awsRequestId: "req-1", getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

/** What Powertools does, minus DynamoDB: one result per run id, nothing remembered on failure. */
function memoryIdempotency(): RecordIdempotency & { store: Map<string, StoredStartJob> } {
  const store = new Map<string, StoredStartJob>();
  const inFlight = new Set<string>();
  return {
    store,
    wrap: (fn) => async (runId, ...rest) => {
      const done = store.get(runId);
      if (done) return done;
      if (inFlight.has(runId)) throw new Error(`run ${runId} is in progress`);
      inFlight.add(runId);
      try {
        const result = await fn(runId, ...rest);
        store.set(runId, result);
        return result;
      } finally {
        inFlight.delete(runId);
      }
    },
  };
}

/** Batch answers each SubmitJob with a new job id, like the service. */
function batchAcceptsEverything(): void {
  let n = 0;
  batchMock.on(SubmitJobCommand).callsFake(async (input: SubmitJobCommandInput) => {
    n++;
    return { jobId: `job-${n}`, jobName: input.jobName, jobArn: `arn:aws:batch:eu-west-1:123456789012:job/job-${n}`, $metadata: {} };
  });
}

const submitted = (): SubmitJobCommandInput[] => batchMock.commandCalls(SubmitJobCommand).map((c) => c.args[0].input);

function memoryHandler(log = recordingLogger()) {
  const idempotency = memoryIdempotency();
  const handler = createTriggerHandler({
    batch: new Batch({ region: "eu-west-1" }),
    idempotency,
    config: { target: { jobQueue: QUEUE, jobDefinition: DEFINITION, stack: STACK }, ignorePrefix: "results/" },
    log,
  });
  return { handler, idempotency, log };
}

beforeEach(() => {
  batchMock.reset();
  dynamoMock.reset();
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("parseTriggerSettings", () => {
  it("given the required variables, applies the defaults", () => {
    expect(parseTriggerSettings({ START_QUEUE: "q", START_JOB_DEFINITION: "d", IDEMPOTENCY_TABLE: "t", PIPELINE_STACK: "s" })).toEqual({
      target: { jobQueue: "q", jobDefinition: "d", stack: "s", tags: {} },
      ignorePrefix: "",
      idempotency: { tableName: "t", expiresAfterSeconds: DEFAULT_IDEMPOTENCY_SECONDS },
    });
  });

  it("given optional tags and share identifier, reads them", () => {
    const settings = parseTriggerSettings({ ...ENV, [TRIGGER_ENV.jobTags]: '{"project":"genomics"}', [TRIGGER_ENV.shareIdentifier]: "blue" });
    expect(settings.target).toEqual({ jobQueue: QUEUE, jobDefinition: DEFINITION, stack: STACK, tags: { project: "genomics" }, shareIdentifier: "blue" });
    expect(settings.idempotency.expiresAfterSeconds).toBe(3600);
  });

  it("given nothing, names every missing variable", () => {
    expect(() => parseTriggerSettings({})).toThrow(
      new TriggerConfigError(["`START_QUEUE` is required", "`START_JOB_DEFINITION` is required", "`IDEMPOTENCY_TABLE` is required", "`PIPELINE_STACK` is required"]),
    );
  });

  it("reads the stack from the contract's variable (STACK_ENV), the one infra sets", () => {
    expect(TRIGGER_ENV.stack).toBe(STACK_ENV);
    expect(STACK_ENV).toBe("PIPELINE_STACK");
  });

  // AWS tag values are at most 256 Unicode characters (AWS Batch user guide, "Tag restrictions"); the
  // stack tag is sent unchanged because IAM compares it with the stack's id.
  it.each([
    ["one character", true, "a"],
    ["256 characters (the limit)", true, "s".repeat(256)],
    ["256 non-ASCII letters", true, "é".repeat(256)],
    ["257 characters (one past)", false, "s".repeat(257)],
    ["a character tags reject", false, "dev|prod"],
    ["only spaces (required)", false, "   "],
  ])("given PIPELINE_STACK of %s, accepts it: %s", (_label, ok, value) => {
    const run = () => parseTriggerSettings({ ...ENV, [TRIGGER_ENV.stack]: value });
    if (ok) expect(run().target.stack).toBe(value);
    else expect(run).toThrow(/`PIPELINE_STACK` (is required|must be a tag value for `pipeline:stack`)/);
  });

  // Batch: at most 50 tags per job; every start job carries the pipeline's own 5 (TAG_KEYS).
  it.each([
    [MAX_TAGS_PER_JOB - PIPELINE_TAG_COUNT, true],
    [MAX_TAGS_PER_JOB - PIPELINE_TAG_COUNT + 1, false],
  ])("given %i START_JOB_TAGS (50 per job, the pipeline's own 5 included), accepts them: %s", (count, ok) => {
    const tags = JSON.stringify(Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, "v"])));
    const run = () => parseTriggerSettings({ ...ENV, [TRIGGER_ENV.jobTags]: tags });
    if (ok) expect(Object.keys(run().target.tags!)).toHaveLength(count);
    else expect(run).toThrow("`START_JOB_TAGS` must be a JSON object of at most 45 string tags");
  });

  it.each([
    [{ [TRIGGER_ENV.idempotencySeconds]: "7d" }, /`IDEMPOTENCY_TTL_SECONDS` must be a positive whole number of seconds, got "7d"/],
    [{ [TRIGGER_ENV.idempotencySeconds]: "0" }, /`IDEMPOTENCY_TTL_SECONDS` must be a positive/],
    [{ [TRIGGER_ENV.jobTags]: "{nope" }, /`START_JOB_TAGS` must be a JSON object.*invalid JSON/],
    [{ [TRIGGER_ENV.jobTags]: '{"pipeline:step":"x"}' }, /`START_JOB_TAGS` must be a JSON object/],
    [{ [TRIGGER_ENV.jobTags]: '{"n":1}' }, /`START_JOB_TAGS` must be a JSON object/],
  ])("given %j, throws TriggerConfigError naming the variable", (bad, message) => {
    expect(() => parseTriggerSettings({ ...ENV, ...bad })).toThrow(message);
  });

  it("given a broken environment, buildTriggerHandler fails at cold start", () => {
    expect(() => buildTriggerHandler({}, MODULES)).toThrow(TriggerConfigError);
  });
});

describe("createTriggerHandler: event shapes (in-memory idempotency)", () => {
  it("given one versioned record, submits exactly one start job for it", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    const event = s3Event(record("incoming/my+file%2B1.csv", { versionId: "v1", size: 0, eTag: "etag-1" }));
    const runId = await computeRunId({ bucket: BUCKET, key: "incoming/my file+1.csv", versionId: "v1" });

    const result = await handler(event, context);

    expect(submitted()).toEqual([
      {
        jobName: `start-my-file-1-csv-${runId}`,
        jobQueue: QUEUE,
        jobDefinition: DEFINITION,
        parameters: { runId, bucket: BUCKET, key: "incoming/my file+1.csv", versionId: "v1", size: "0" },
        containerOverrides: {
          environment: [
            { name: "PIPELINE_RUN_ID", value: runId },
            { name: "PIPELINE_INPUT_BUCKET", value: BUCKET },
            { name: "PIPELINE_INPUT_KEY", value: "incoming/my file+1.csv" },
            { name: "PIPELINE_INPUT_VERSION_ID", value: "v1" },
            { name: "PIPELINE_INPUT_SIZE", value: "0" },
            { name: "PIPELINE_INPUT_ETAG", value: "etag-1" },
          ],
        },
        tags: {
          "pipeline:run-id": runId,
          "pipeline:input-bucket": BUCKET,
          "pipeline:input-key": "incoming/my file+1.csv",
          "pipeline:step": "start",
          // What the orchestrator's IAM keys on: it may terminate only jobs tagged with its own stack.
          [TAG_KEYS.stack]: STACK,
        },
        propagateTags: true,
      },
    ]);
    expect(result.jobs).toEqual([
      {
        status: "submitted",
        runId,
        jobId: "job-1",
        jobName: `start-my-file-1-csv-${runId}`,
        jobArn: "arn:aws:batch:eu-west-1:123456789012:job/job-1",
        bucket: BUCKET,
        key: "incoming/my file+1.csv",
        versionId: "v1",
      },
    ]);
  });

  it("given several records with +, %2B and unicode keys, submits one job per record with the decoded keys", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    await handler(
      s3Event(
        record("incoming/a+b.csv", { versionId: "1" }),
        record("incoming/a%2Bb.csv", { versionId: "2" }),
        record("incoming/%E6%95%B0%E6%8D%AE+caf%C3%A9.csv", { versionId: "3" }),
      ),
      context,
    );
    expect(submitted().map((r) => r.parameters!.key)).toEqual(["incoming/a b.csv", "incoming/a+b.csv", "incoming/数据 café.csv"]);
    expect(new Set(submitted().map((r) => r.jobName)).size).toBe(3);
  });

  it("given an unversioned bucket, keys the run on the sequencer and sends an empty version id", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    await handler(s3Event(record("incoming/u.csv", { sequencer: "0A1" }), record("incoming/u.csv", { sequencer: "0A2" })), context);
    const [first, second] = submitted();
    expect(first!.parameters!.versionId).toBe("");
    expect(first!.parameters!.runId).toBe(await computeRunId({ bucket: BUCKET, key: "incoming/u.csv", sequencer: "0A1" }));
    // Two writes of the same key are two runs.
    expect(second!.parameters!.runId).not.toBe(first!.parameters!.runId);
  });

  it("given s3:TestEvent, submits nothing and logs why", async () => {
    const { handler, log } = memoryHandler();
    expect(await handler(testEvent, context)).toEqual({ jobs: [], ignored: [{ index: 0, reason: "test-event", eventName: "s3:TestEvent", bucket: BUCKET }] });
    expect(submitted()).toEqual([]);
    expect(log.lines).toEqual([
      { level: "info", message: "S3 record ignored", fields: { index: 0, reason: "test-event", eventName: "s3:TestEvent", bucket: BUCKET } },
      { level: "info", message: "S3 records ignored, by reason", fields: { count: 1, byReason: { "test-event": 1 } } },
    ]);
  });

  it("given ObjectRemoved and a key under the output prefix, submits nothing", async () => {
    const { handler, log } = memoryHandler();
    const result = await handler(
      s3Event(record("incoming/x.csv", { eventName: "ObjectRemoved:Delete" }), record("results/run/out.csv", { versionId: "v" })),
      context,
    );
    expect(submitted()).toEqual([]);
    expect(result.ignored.map((i) => i.reason)).toEqual(["not-object-created", "ignored-prefix"]);
    expect(log.lines.map((l) => l.message)).toEqual(["S3 record ignored", "S3 record ignored", "S3 records ignored, by reason"]);
  });

  // The S3 console's "Create folder" writes a zero-byte `<prefix>/` object (S3 user guide, "Naming Amazon
  // S3 objects"), which S3 notifies as ObjectCreated: it must not start a run.
  it("given folder markers among uploads, submits only the uploads and logs one count of ignored records by reason", async () => {
    batchAcceptsEverything();
    const { handler, log } = memoryHandler();
    const result = await handler(
      s3Event(
        record("incoming/2026/", { size: 0, versionId: "1" }),
        record("incoming/2026/11/", { size: 0, versionId: "2" }),
        record("incoming/2026/data.csv", { size: 10, versionId: "3" }),
        record("incoming/2026/x.csv", { eventName: "ObjectRemoved:Delete" }),
      ),
      context,
    );
    expect(submitted().map((r) => r.parameters!.key)).toEqual(["incoming/2026/data.csv"]);
    expect(result.ignored.map((i) => [i.index, i.reason])).toEqual([[0, "folder-marker"], [1, "folder-marker"], [3, "not-object-created"]]);
    const summaries = log.lines.filter((l) => l.message === "S3 records ignored, by reason");
    expect(summaries).toEqual([{ level: "info", message: "S3 records ignored, by reason", fields: { count: 3, byReason: { "folder-marker": 2, "not-object-created": 1 } } }]);
    expect(log.lines.filter((l) => l.message === "S3 record ignored")).toHaveLength(3);
  });

  it("given nothing ignored, logs no count of ignored records", async () => {
    batchAcceptsEverything();
    const { handler, log } = memoryHandler();
    await handler(s3Event(record("incoming/only.csv", { versionId: "1" })), context);
    expect(log.lines.map((l) => l.message)).toEqual(["start job submitted"]);
  });

  // Was "with the key as delivered" (`a+b` kept), which is wrong: EventBridge keys are URL-encoded
  // (Powertools for AWS Lambda (Python), S3EventBridgeNotificationObject.key: unquote_plus).
  it("given an EventBridge Object Created event, submits the start job with the URL-decoded key", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    await handler(eventBridge("incoming/a+b%2B.csv", { versionId: "v7", size: 5 }), context);
    expect(submitted()).toHaveLength(1);
    expect(submitted()[0]!.parameters).toMatchObject({ key: "incoming/a b+.csv", versionId: "v7", size: "5" });
  });

  it("given the same record twice in one event, submits once", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    const result = await handler(s3Event(record("incoming/d.csv", { versionId: "v" }), record("incoming/d.csv", { versionId: "v" })), context);
    expect(submitted()).toHaveLength(1);
    expect(result.jobs).toHaveLength(1);
  });

  it("given an unrecognisable event, throws so it ends in the dead-letter queue", async () => {
    const { handler } = memoryHandler();
    await expect(handler({ hello: "world" }, context)).rejects.toThrow(/expected an S3 notification/);
  });
});

describe("createTriggerHandler: duplicate delivery", () => {
  it("given the same event twice (in-memory store), the second call submits nothing and returns the first job", async () => {
    batchAcceptsEverything();
    const { handler, log } = memoryHandler();
    const event = s3Event(record("incoming/dup.csv", { versionId: "v1" }));

    const first = await handler(event, context);
    const second = await handler(event, context);

    expect(submitted()).toHaveLength(1);
    expect(second.jobs).toEqual([{ ...first.jobs[0], status: "duplicate" }]);
    expect(log.lines.map((l) => l.message)).toEqual(["start job submitted", "start job already submitted for this object version"]);
  });
});

// -------------------------------------------------------------------------------------------------
// Real Powertools over a mocked DynamoDB
// -------------------------------------------------------------------------------------------------

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

describe("createTriggerHandler: one bad record never drops the others", () => {
  it("given three records of which one fails, submits the other two and throws naming the failed record", async () => {
    batchMock.on(SubmitJobCommand).callsFake(async (input: SubmitJobCommandInput) => {
      if (input.parameters!.key === "incoming/bad.csv") throw new ClientException({ message: "jobDefinition is INACTIVE", $metadata: {} });
      return { jobId: `job-${input.parameters!.key}`, jobName: input.jobName, $metadata: {} };
    });
    const { handler, idempotency, log } = memoryHandler();
    const event = s3Event(record("incoming/a.csv", { versionId: "1" }), record("incoming/bad.csv", { versionId: "2" }), record("incoming/c.csv", { versionId: "3" }));

    const error = await handler(event, context).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TriggerRecordsFailedError);
    expect(error).toBeInstanceOf(AggregateError);
    const failed = error as TriggerRecordsFailedError;
    expect(failed.message).toMatch(/^1 of 3 S3 record\(s\) failed: #1 s3:\/\/input-bucket\/incoming\/bad\.csv \(version 2\): start job start-bad-csv-[0-9a-f]{24} was not submitted: ClientException: jobDefinition is INACTIVE$/);
    expect(failed.failures.map((f) => [f.index, f.key])).toEqual([[1, "incoming/bad.csv"]]);
    expect(failed.errors).toHaveLength(1);
    expect(submitted().map((r) => r.parameters!.key)).toEqual(["incoming/a.csv", "incoming/bad.csv", "incoming/c.csv"]);
    expect(idempotency.store.size).toBe(2);
    expect(log.lines.filter((l) => l.level === "error")).toHaveLength(1);

    // Lambda's retry of the whole event submits only the record that failed.
    batchMock.resetHistory();
    batchAcceptsEverything();
    const retried = await handler(event, context);
    expect(submitted().map((r) => r.parameters!.key)).toEqual(["incoming/bad.csv"]);
    expect(retried.jobs.map((j) => j.status)).toEqual(["duplicate", "submitted", "duplicate"]);
  });

  it("given an unreadable record among good ones, submits the good ones and throws naming it", async () => {
    batchAcceptsEverything();
    const { handler } = memoryHandler();
    const error = await handler(s3Event(record("incoming/ok.csv", { versionId: "1" }), record("incoming/bad%E0%A4%A.csv", { versionId: "2" })), context).catch(
      (e: unknown) => e,
    );
    expect(submitted()).toHaveLength(1);
    expect((error as TriggerRecordsFailedError).message).toMatch(/^1 of 2 S3 record\(s\) failed: #1: record 1 \(ObjectCreated:Put\) has a malformed URL-encoded key/);
  });
});

// -------------------------------------------------------------------------------------------------
// Throttling: a real Batch client (mocks bypass the SDK's retry middleware) over a fake HTTP handler
// -------------------------------------------------------------------------------------------------

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
    batchMock = mockClient(BatchClient);
  });

  function handlerOver(endpoint: ReturnType<typeof throttlingEndpoint>, batch: Partial<BatchClientConfig>) {
    return createTriggerHandler({
      batch: new Batch({ ...SUBMIT_JOB_RETRY, ...offline, requestHandler: endpoint.requestHandler, ...batch }),
      idempotency: memoryIdempotency(),
      config: { target: { jobQueue: QUEUE, jobDefinition: DEFINITION, stack: STACK } },
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
