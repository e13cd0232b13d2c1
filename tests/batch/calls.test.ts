import { type BatchClient, type BatchClientConfig, BatchServiceException, ListJobsCommand, SubmitJobCommand } from "@aws-sdk/client-batch";
import { afterEach, describe, expect, it, vi } from "vitest";
import { advanceUntil } from "../support/fakeTime";
import { isAmbiguousSubmitFailure } from "../../batch/calls";
import { createBatchClient, createSubmitBatchClient } from "../../batch/clients";
import { accessDenied, clientError, serverError, timeout } from "../jobs/fakeBatch";

// aws-sdk-client-mock replaces `send` and so skips the SDK's retry middleware; these tests drive a real
// client through a fake HTTP handler to show throttling is retried before the submitter ever sees it.
describe("createBatchClient", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("uses adaptive retries with 10 attempts", async () => {
    const client = createBatchClient({ region: "us-east-1" });
    expect(await client.config.retryStrategy()).toMatchObject({ mode: "adaptive" });
    expect(await client.config.maxAttempts()).toBe(10);
  });

  /**
   * Sends one SubmitJob (or `command`) through a handler answering `statuses` in turn (a number is an HTTP
   * status, an Error is thrown as the connection failing); returns the outcome and attempts.
   */
  async function submitAgainst(statuses: (number | Error)[], make: (config: BatchClientConfig) => BatchClient = createBatchClient,
    call: (client: BatchClient) => Promise<{ jobId?: string; $metadata: { attempts?: number } }> = (client) => client.send(new SubmitJobCommand({ jobName: "n", jobQueue: "q", jobDefinition: "d" })),
  ) {
    vi.useFakeTimers(); // the adaptive rate limiter waits between attempts; do not wait for real
    vi.spyOn(Math, "random").mockReturnValue(0);
    let attempts = 0;
    const client = make({
      region: "us-east-1",
      credentials: { accessKeyId: "AKID", secretAccessKey: "secret" },
      requestHandler: {
        handle: async () => {
          const statusCode = statuses[attempts++];
          if (statusCode instanceof Error) throw statusCode;
          const ok = statusCode === 200;
          const errorType = statusCode === 429 ? "TooManyRequestsException" : statusCode >= 500 ? "ServerException" : "ClientException";
          const body = ok ? { jobId: "job-1", jobName: "n", jobArn: "arn:aws:batch:us-east-1:1:job/job-1" } : { message: errorType };
          return {
            response: {
              statusCode,
              reason: "",
              headers: { "content-type": "application/json", ...(ok ? {} : { "x-amzn-errortype": errorType }) },
              body: new TextEncoder().encode(JSON.stringify(body)),
            },
          };
        },
      } as never,
    });
    let settled = false;
    const sent = call(client)
      .then((out) => ({ out, error: undefined }), (error: unknown) => ({ out: undefined, error }))
      .finally(() => (settled = true));
    // Timers get scheduled only as the middleware stack gets to them: keep advancing until the call ends.
    await advanceUntil(() => settled);
    return { ...(await sent), attempts };
  }

  it("retries HTTP 429 TooManyRequestsException and succeeds", async () => {
    const { out, attempts } = await submitAgainst([429, 429, 200]);
    expect(out?.jobId).toBe("job-1");
    expect(out?.$metadata.attempts).toBe(3);
    expect(attempts).toBe(3);
  });

  it("surfaces throttling after 10 attempts, as TooManyRequestsException with status 429", async () => {
    const { error, attempts } = await submitAgainst(Array(10).fill(429));
    expect(attempts).toBe(10);
    expect(error).toMatchObject({ name: "TooManyRequestsException", $metadata: { httpStatusCode: 429 } });
  });

  it("does not retry a client error", async () => {
    const { error, attempts } = await submitAgainst([400, 200]);
    expect(attempts).toBe(1);
    expect(error).toMatchObject({ name: "ClientException" });
  });

  // SubmitJob has no client token: a 5xx, a timeout or a reset connection may follow the job's creation,
  // and the SDK would retry all three (they are "transient" to it), running the step twice.
  describe("createSubmitBatchClient: the SDK never retries SubmitJob", () => {
    it("is adaptive (its rate limiter still learns from 429s) with a single attempt, whatever the config says", async () => {
      const client = createSubmitBatchClient({ region: "us-east-1", maxAttempts: 5 });
      expect(await client.config.retryStrategy()).toMatchObject({ mode: "adaptive" });
      expect(await client.config.maxAttempts()).toBe(1);
    });

    it("surfaces an HTTP 500 after one attempt (the job may exist: the submitter looks it up)", async () => {
      const { error, attempts } = await submitAgainst([500, 200], createSubmitBatchClient);
      expect(attempts).toBe(1);
      expect(error).toMatchObject({ name: "ServerException", $metadata: { httpStatusCode: 500 } });
    });

    it("surfaces a reset connection after one attempt", async () => {
      const { error, attempts } = await submitAgainst([Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), 200], createSubmitBatchClient);
      expect(attempts).toBe(1);
      expect(error).toMatchObject({ code: "ECONNRESET" });
    });

    it("surfaces a 429 after one attempt too: the submitter backs off itself (throttled calls created nothing)", async () => {
      const { error, attempts } = await submitAgainst([429, 200], createSubmitBatchClient);
      expect(attempts).toBe(1);
      expect(error).toMatchObject({ name: "TooManyRequestsException" });
    });

    it("while the read client still retries a 500 (ListJobs is safe to repeat)", async () => {
      const { out, attempts } = await submitAgainst([500, 200], createBatchClient, (client) => client.send(new ListJobsCommand({ jobQueue: "q" })));
      expect(attempts).toBe(2);
      expect(out).toBeDefined();
    });
  });
});

// SubmitJob has no client token: whether a failed one may have created its job decides between a lookup
// by name and an error (or a backoff, for throttling).
describe("isAmbiguousSubmitFailure", () => {
  it.each([
    ["HTTP 500", serverError(), true],
    ["a timeout", timeout(), true],
    ["a reset connection", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), true],
    ["HTTP 400 ClientException", clientError(), false],
    ["HTTP 403 AccessDeniedException", accessDenied(), false],
    ["HTTP 429 (throttled: Batch created nothing)", new BatchServiceException({ name: "TooManyRequestsException", $fault: "client", $metadata: { httpStatusCode: 429 }, message: "" }), false],
  ])("%s may have created the job: %s", (_what, error, ambiguous) => {
    expect(isAmbiguousSubmitFailure(error)).toBe(ambiguous);
  });

});
