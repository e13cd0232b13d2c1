/** functions/settings.ts: the trigger's Lambda environment, validated at cold start. */
import { describe, expect, it } from "vitest";
import { MAX_TAGS_PER_JOB, PIPELINE_TAG_COUNT, STACK_ENV, TRIGGER_ENV } from "../../contract";
import { DEFAULT_IDEMPOTENCY_SECONDS, parseTriggerSettings, TriggerConfigError } from "../../functions/settings";
import { buildTriggerHandler } from "../../functions/wiring";
import { createInlineStarter } from "../../functions/inline";
import { BATCH_CLIENT_CONFIG, SUBMIT_CLIENT_CONFIG } from "../../batch/calls";
import { BATCH_COMMANDS } from "../../batch/clients";
import { defaultWorkflow } from "../../workflow/spec";
import { DEFINITION, ENV, MODULES, QUEUE, resetMocksBetweenTests, STACK } from "./triggerFixtures";

resetMocksBetweenTests();

describe("parseTriggerSettings", () => {
  it("given the required variables, applies the defaults", () => {
    expect(parseTriggerSettings({ START_QUEUE: "q", START_JOB_DEFINITION: "d", IDEMPOTENCY_TABLE: "t", PIPELINE_STACK: "s", TRIGGER_BUCKET: "b" })).toEqual({
      target: { jobQueue: "q", jobDefinition: "d", stack: "s", tags: {} },
      bucket: "b",
      filter: { prefix: "", suffix: "", outputPrefix: "" },
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
      new TriggerConfigError(["`START_QUEUE` is required", "`START_JOB_DEFINITION` is required", "`IDEMPOTENCY_TABLE` is required", "`PIPELINE_STACK` is required", "`TRIGGER_BUCKET` is required"]),
    );
  });

  it("reads the bucket, prefix and suffix a record must have (issue 17: the handler checks them again)", () => {
    const settings = parseTriggerSettings({ ...ENV, [TRIGGER_ENV.keySuffix]: ".csv" });
    expect([settings.bucket, settings.filter]).toEqual(["input-bucket", { prefix: "incoming/", suffix: ".csv", outputPrefix: "results/" }]);
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

describe("parseTriggerSettings: orchestrator.mode (ORCHESTRATOR_MODE)", () => {
  const INLINE_ENV = {
    ...ENV,
    [TRIGGER_ENV.orchestratorMode]: "inline",
    [TRIGGER_ENV.processQueue]: "arn:aws:batch:eu-west-1:123456789012:job-queue/low",
    [TRIGGER_ENV.jobDefinitions]: '{"process":"p-def","barrier":"b-def"}',
    [TRIGGER_ENV.outputRoot]: "results/",
  };

  it("without it, starts every run with a start job (container)", () => {
    expect(parseTriggerSettings(ENV).inline).toBeUndefined();
    expect(parseTriggerSettings({ ...ENV, [TRIGGER_ENV.orchestratorMode]: "container" }).inline).toBeUndefined();
  });

  it.each(["inline", "auto"])("given %s, reads where the DAG goes and what it carries: the process queue, the definitions, the stack, its tags, the output root", (mode) => {
    const settings = parseTriggerSettings({ ...INLINE_ENV, [TRIGGER_ENV.orchestratorMode]: mode, [TRIGGER_ENV.jobTags]: '{"project":"atlas"}' });
    expect(settings.inline).toEqual({
      mode,
      target: { jobQueue: "arn:aws:batch:eu-west-1:123456789012:job-queue/low", jobDefinitions: { process: "p-def", barrier: "b-def" }, stack: STACK, tags: { project: "atlas" }, outputRoot: "results/" },
    });
  });

  it("names an unknown mode and the modes there are", () => {
    expect(() => parseTriggerSettings({ ...ENV, [TRIGGER_ENV.orchestratorMode]: "lambda" })).toThrow(
      new TriggerConfigError(['`ORCHESTRATOR_MODE` must be one of container, inline, auto, got "lambda"']),
    );
  });

  it("in inline mode, names a missing process queue and definitions, and definitions that are no JSON object of names", () => {
    const { [TRIGGER_ENV.processQueue]: _q, [TRIGGER_ENV.jobDefinitions]: _d, ...missing } = INLINE_ENV;
    expect(() => parseTriggerSettings(missing)).toThrow(new TriggerConfigError(["`PIPELINE_PROCESS_QUEUE` is required", "`PIPELINE_JOB_DEFINITIONS` is required"]));
    expect(() => parseTriggerSettings({ ...INLINE_ENV, [TRIGGER_ENV.jobDefinitions]: "{process" })).toThrow(
      new TriggerConfigError(["`PIPELINE_JOB_DEFINITIONS` is not valid JSON, got {process"]),
    );
    expect(() => parseTriggerSettings({ ...INLINE_ENV, [TRIGGER_ENV.jobDefinitions]: '{"process":""}' })).toThrow(
      new TriggerConfigError(['`PIPELINE_JOB_DEFINITIONS` values must be non-empty job definition names, got {"process":""}']),
    );
  });

  it("in inline mode, builds the submitter's two clients as the container does (reads and TerminateJob SDK-retried, SubmitJob never retried by the SDK), each request bounded to 5 s and the SDK's own retries to 3 attempts, so the budget holds", () => {
    const configs: unknown[] = [];
    const sdk = { ...BATCH_COMMANDS, BatchClient: class { send = () => Promise.reject(new Error("unused")); constructor(config: unknown) { configs.push(config); } } };
    const built: unknown[] = [];
    buildTriggerHandler(INLINE_ENV, { ...MODULES, batchSdk: sdk }, {}, { workflow: defaultWorkflow(), createInlineStarter: (deps) => (built.push(deps), createInlineStarter(deps)) });
    expect(configs).toEqual([
      { ...BATCH_CLIENT_CONFIG, maxAttempts: 3, requestHandler: { requestTimeout: 5_000, throwOnRequestTimeout: true } },
      { ...SUBMIT_CLIENT_CONFIG, requestHandler: { requestTimeout: 5_000, throwOnRequestTimeout: true } },
    ]);
    expect(BATCH_CLIENT_CONFIG).toEqual({ retryMode: "adaptive", maxAttempts: 10 });
    expect(SUBMIT_CLIENT_CONFIG.maxAttempts).toBe(1);
    expect(built).toEqual([expect.objectContaining({ mode: "inline", workflow: defaultWorkflow(), commands: sdk })]);
  });

  it("in inline mode, buildTriggerHandler fails at cold start without the workflow and the Batch SDK its factory passes", () => {
    expect(() => buildTriggerHandler(INLINE_ENV, MODULES)).toThrow(/orchestrator mode inline needs the stack's workflow and the Batch SDK/);
  });
});
