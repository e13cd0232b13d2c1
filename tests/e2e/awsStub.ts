/**
 * A tiny AWS-compatible endpoint on 127.0.0.1 for tests that run real SDK clients in another process
 * (AWS_ENDPOINT_URL points here). It speaks just enough of two services:
 * - Batch (REST-JSON): the Batch model (tests/support/batchModel.ts) through its HTTP adapter, on a clock
 *   that stands at 2026-12-01T12:00:00Z: SubmitJob (each request that created a job recorded), ListJobs,
 *   DescribeJobs, TerminateJob and CancelJob as the model answers them, over the jobs submitted so far (all
 *   SUBMITTED) and those a test added with `addJob` (e.g. the start job the orchestrator runs as).
 *   SubmitJob can be made to fail with HTTP 429, or with HTTP 500 after creating the job (SubmitJob has no
 *   client token, so a real Batch can do that), or with HTTP 400 ClientException (not retried);
 * - DynamoDB (JSON 1.0): GetItem, PutItem (with Powertools' "does not exist or expired" condition),
 *   UpdateItem (SET a = :v, …) and DeleteItem on an in-memory table.
 * Any other call answers 400 so a test sees exactly what the code under test tried to do.
 */
import type { JobStatus } from "@aws-sdk/client-batch";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { answerBatchHttp, BatchModel, type ModelJob } from "../support/batchModel";
import { batchClientError, serverError, tooManyRequests } from "../support/batchSemantics";
import { FakeClock } from "../support/clock";

type AttributeValue = { S?: string; N?: string; BOOL?: boolean; NULL?: boolean; M?: Record<string, AttributeValue> };
type Item = Record<string, AttributeValue>;

export interface StubCall {
  service: "batch" | "dynamodb";
  operation: string;
  body: any;
}

export interface StubJob {
  jobId: string;
  jobName: string;
  jobQueue: string;
  createdAt: number;
  status: JobStatus;
  statusReason?: string;
}

export interface AwsStub {
  url: string;
  calls: StubCall[];
  /** SubmitJob bodies, in order. */
  submitted: any[];
  /** Items by partition key value. */
  table: Map<string, Item>;
  /** Makes Batch know a job the test did not submit through the stub (e.g. a start job). */
  addJob(job: StubJob): void;
  /** Fail the next `n` SubmitJob calls with HTTP 429 TooManyRequestsException. */
  throttleNext(n: number): void;
  /** The next `n` SubmitJob calls create their job, then answer HTTP 500 ServerException. */
  failAfterCreatingNext(n: number): void;
  /** The next `n` SubmitJob calls create nothing and answer HTTP 400 ClientException with `message` (not retried). */
  rejectNext(n: number, message: string): void;
  /** Jobs Batch knows, in creation order. */
  readonly jobs: ModelJob[];
  /** Batch behind the endpoint. */
  batch: BatchModel;
  /** Called with each Batch request's path (`/v1/submitjob`, …) and body as it arrives, before Batch answers it (e.g. to kill the caller mid-call). */
  onBatchCall?: (path: string, body: any) => void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const num = (v: AttributeValue | undefined) => (v?.N === undefined ? undefined : Number(v.N));

export async function startAwsStub(): Promise<AwsStub> {
  const calls: StubCall[] = [];
  const submitted: any[] = [];
  const table = new Map<string, Item>();
  const batch = new BatchModel({ clock: new FakeClock(Date.parse("2026-12-01T12:00:00Z")) });

  const server: Server = createServer(async (req, res) => {
    const text = await readBody(req);
    const body = text === "" ? {} : JSON.parse(text);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.0", ...headers });
      res.end(JSON.stringify(payload));
    };
    const target = req.headers["x-amz-target"];
    if (typeof target === "string" && target.startsWith("DynamoDB_20120810.")) {
      const operation = target.slice("DynamoDB_20120810.".length);
      calls.push({ service: "dynamodb", operation, body });
      const key = (k: Item) => Object.values(k)[0]!.S!;
      switch (operation) {
        case "GetItem": {
          const item = table.get(key(body.Key));
          return send(200, item ? { Item: item } : {});
        }
        case "PutItem": {
          const id = key({ id: body.Item.id });
          const existing = table.get(id);
          const now = num(body.ExpressionAttributeValues?.[":now"]) ?? Date.now() / 1000;
          const nowMs = num(body.ExpressionAttributeValues?.[":now_in_millis"]) ?? Date.now();
          const expired = existing && (num(existing.expiration)! < now ||
            (existing.status?.S === "INPROGRESS" && existing.in_progress_expiration !== undefined && num(existing.in_progress_expiration)! < nowMs));
          if (existing && body.ConditionExpression && !expired) {
            return send(400, {
              __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
              message: "The conditional request failed",
              ...(body.ReturnValuesOnConditionCheckFailure === "ALL_OLD" ? { Item: existing } : {}),
            });
          }
          table.set(id, body.Item);
          return send(200, {});
        }
        case "UpdateItem": {
          const id = key(body.Key);
          const item: Item = { ...(table.get(id) ?? body.Key) };
          const assignments = String(body.UpdateExpression).replace(/^SET\s+/i, "").split(",");
          for (const assignment of assignments) {
            const [name, value] = assignment.split("=").map((s: string) => s.trim());
            item[body.ExpressionAttributeNames?.[name!] ?? name!] = body.ExpressionAttributeValues[value!];
          }
          table.set(id, item);
          return send(200, {});
        }
        case "DeleteItem":
          table.delete(key(body.Key));
          return send(200, {});
        default:
          return send(400, { __type: "UnknownOperationException", message: operation });
      }
    }
    const created = batch.created;
    stub.onBatchCall?.(req.url ?? "", body);
    const answered = answerBatchHttp(batch, req.method, req.url, body);
    if (answered) {
      calls.push({ service: "batch", operation: answered.operation, body });
      if (answered.operation === "SubmitJob" && batch.created > created) submitted.push(body);
      if (answered.answer === "drop") return void req.socket.destroy();
      return send(answered.answer.status, answered.answer.body, answered.answer.headers);
    }
    calls.push({ service: "batch", operation: `${req.method} ${req.url}`, body });
    return send(400, { __type: "UnknownOperationException", message: `${req.method} ${req.url}` });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const stub: AwsStub = {
    url: `http://127.0.0.1:${port}`,
    calls,
    submitted,
    table,
    addJob: (job) => {
      batch.add(job);
    },
    throttleNext: (n) => {
      batch.failNext("SubmitJob", { error: tooManyRequests, times: n });
    },
    failAfterCreatingNext: (n) => {
      batch.failNext("SubmitJob", { error: serverError, creates: true, times: n });
    },
    rejectNext: (n, message) => {
      batch.failNext("SubmitJob", { error: () => batchClientError(message), times: n });
    },
    get jobs() {
      return batch.jobs;
    },
    batch,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return stub;
}
