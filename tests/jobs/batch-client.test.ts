import { SubmitJobCommand } from "@aws-sdk/client-batch";
import { afterEach, describe, expect, it, vi } from "vitest";
import { advanceUntil } from "../support/fakeTime";
import { createBatchClient } from "../../jobs/submitter";

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

  /** Sends one SubmitJob through a handler answering `statuses` in turn; returns the outcome and attempts. */
  async function submitAgainst(statuses: number[]) {
    vi.useFakeTimers(); // the adaptive rate limiter waits between attempts; do not wait for real
    vi.spyOn(Math, "random").mockReturnValue(0);
    let attempts = 0;
    const client = createBatchClient({
      region: "us-east-1",
      credentials: { accessKeyId: "AKID", secretAccessKey: "secret" },
      requestHandler: {
        handle: async () => {
          const statusCode = statuses[attempts++];
          const ok = statusCode === 200;
          const errorType = statusCode === 429 ? "TooManyRequestsException" : "ClientException";
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
    const sent = client
      .send(new SubmitJobCommand({ jobName: "n", jobQueue: "q", jobDefinition: "d" }))
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
});
