/**
 * The CLI's real SQS client (cli/app/context.ts sdkClients) with a configured endpoint: every call must go to
 * that endpoint, not to the host of the queue URL. The AWS SDK v3 SQS client sends a call that has a
 * QueueUrl to the queue URL's host by default (`useQueueUrlAsEndpoint`, @aws-sdk/middleware-sdk-sqs), and
 * an endpoint from `AWS_ENDPOINT_URL` does not count as a custom endpoint there, so `redrive` failed
 * against VPC endpoints and emulators with ENOTFOUND. A local node:http server answers SQS's JSON protocol;
 * the queue URL's host is AWS's, which these tests never reach.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { sdkClients } from "../../../cli/app/context";

const QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/pipeline-dev-trigger-dlq";

interface Seen {
  host: string | undefined;
  target: string | undefined;
  body: any;
}

let server: Server;
let endpoint: string;
const seen: Seen[] = [];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void readBody(req).then((body) => {
      seen.push({ host: req.headers.host, target: req.headers["x-amz-target"] as string | undefined, body: body ? JSON.parse(body) : undefined });
      // SQS JSON protocol (awsJson1_0): an empty ReceiveMessage answer has no Messages.
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "req-1" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen.length = 0;
  vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDTEST");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "secret");
  vi.stubEnv("AWS_SESSION_TOKEN", undefined);
  vi.stubEnv("AWS_PROFILE", undefined);
  vi.stubEnv("AWS_ENDPOINT_URL", undefined);
  vi.stubEnv("AWS_ENDPOINT_URL_SQS", undefined);
  vi.stubEnv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", undefined);
  // No shared config file: only the environment configures the endpoint.
  vi.stubEnv("AWS_CONFIG_FILE", "/nonexistent/aws-config");
  vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials");
});
afterEach(() => vi.unstubAllEnvs());

const receive = () =>
  sdkClients("eu-west-1")
    .sqs()
    .send(new ReceiveMessageCommand({ QueueUrl: QUEUE_URL, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, VisibilityTimeout: 120 }));

describe("the CLI's SQS client and a configured endpoint", () => {
  it("sends ReceiveMessage to AWS_ENDPOINT_URL, not to the queue URL's host (sqs.eu-west-1.amazonaws.com)", async () => {
    vi.stubEnv("AWS_ENDPOINT_URL", endpoint);
    const answer = await receive();
    expect(answer.Messages ?? []).toEqual([]);
    expect(seen).toEqual([{ host: new URL(endpoint).host, target: "AmazonSQS.ReceiveMessage", body: expect.objectContaining({ QueueUrl: QUEUE_URL, MaxNumberOfMessages: 1 }) }]);
  });

  it("sends it to AWS_ENDPOINT_URL_SQS too (the per-service variable)", async () => {
    vi.stubEnv("AWS_ENDPOINT_URL_SQS", endpoint);
    await receive();
    expect(seen.map((s) => s.target)).toEqual(["AmazonSQS.ReceiveMessage"]);
  });

  it("without a configured endpoint still sends it to the region's SQS endpoint, the queue URL's own host (nothing sent: stopped once built)", async () => {
    const sqs = sdkClients("eu-west-1").sqs() as SQSClient;
    let url: string | undefined;
    sqs.middlewareStack.add(
      () => async (args) => {
        const request = args.request as { protocol: string; hostname: string; path: string };
        url = `${request.protocol}//${request.hostname}${request.path}`;
        throw new Error("stopped before sending");
      },
      { step: "build" },
    );
    await expect(sqs.send(new ReceiveMessageCommand({ QueueUrl: QUEUE_URL }))).rejects.toThrow("stopped before sending");
    expect(url).toBe("https://sqs.eu-west-1.amazonaws.com/");
    expect(seen).toEqual([]);
  });
});
