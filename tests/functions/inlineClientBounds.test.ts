/**
 * functions/wiring.ts INLINE_CLIENT_BOUNDS against the installed SDK's HTTP handler (no client mock in this file):
 * a request that gets no answer fails in time, as an ambiguous SubmitJob failure.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { BatchClient, SubmitJobCommand } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { isAmbiguousSubmitFailure, SUBMIT_CLIENT_CONFIG } from "../../batch/calls";
import { INLINE_CLIENT_BOUNDS } from "../../functions/wiring";

describe("INLINE_CLIENT_BOUNDS with the installed SDK: a Batch that never answers", () => {
  it("fails the call with a TimeoutError once requestTimeout has passed, which the submitter reads as a SubmitJob that may have created its job", async () => {
    const server = createServer(() => {}); // accepts the request, never answers
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    // The real bound is 5 s; the mechanism is the same at 300 ms.
    const client = new BatchClient({
      ...SUBMIT_CLIENT_CONFIG,
      requestHandler: { ...INLINE_CLIENT_BOUNDS.requestHandler, requestTimeout: 300 },
      endpoint: `http://127.0.0.1:${port}`,
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    });
    try {
      const started = Date.now();
      const error = await client.send(new SubmitJobCommand({ jobName: "j", jobQueue: "q", jobDefinition: "d" })).catch((e: unknown) => e as Error);
      expect((error as Error).name).toBe("TimeoutError");
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(isAmbiguousSubmitFailure(error)).toBe(true);
    } finally {
      client.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
