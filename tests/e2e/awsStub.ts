/**
 * A tiny AWS-compatible endpoint on 127.0.0.1 for tests that run real SDK clients in another process
 * (AWS_ENDPOINT_URL points here). It speaks just enough of two services:
 * - Batch (REST-JSON): SubmitJob, recording each request; ListJobs on a queue with a JOB_NAME filter
 *   (exact, or a prefix ending in `*`) and DescribeJobs, over the jobs submitted so far (all SUBMITTED)
 *   and those a test added with `addJob` (e.g. the start job the orchestrator runs as); TerminateJob,
 *   which makes a job FAILED with the reason given. SubmitJob can be made to fail with HTTP 429, or with
 *   HTTP 500 after creating the job (SubmitJob has no client token, so a real Batch can do that), or with
 *   HTTP 400 ClientException (not retried);
 * - DynamoDB (JSON 1.0): GetItem, PutItem (with Powertools' "does not exist or expired" condition),
 *   UpdateItem (SET a = :v, …) and DeleteItem on an in-memory table.
 * Any other call answers 400 so a test sees exactly what the code under test tried to do.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

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
  status: string;
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
  jobs: StubJob[];
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
  let throttle = 0;
  let failAfterCreate = 0;
  let reject = { count: 0, message: "" };
  let jobCounter = 0;
  const jobs: StubJob[] = [];

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
    if (req.method === "POST" && req.url?.startsWith("/v1/submitjob")) {
      calls.push({ service: "batch", operation: "SubmitJob", body });
      if (throttle > 0) {
        throttle--;
        return send(429, { message: "Too Many Requests" }, { "x-amzn-errortype": "TooManyRequestsException", "content-type": "application/json" });
      }
      if (reject.count > 0) {
        reject.count--;
        return send(400, { message: reject.message }, { "x-amzn-errortype": "ClientException", "content-type": "application/json" });
      }
      submitted.push(body);
      const jobId = `00000000-0000-4000-8000-${String(++jobCounter).padStart(12, "0")}`;
      jobs.push({ jobId, jobName: body.jobName, jobQueue: body.jobQueue, createdAt: jobCounter, status: "SUBMITTED" });
      if (failAfterCreate > 0) {
        failAfterCreate--;
        return send(500, { message: "Internal Server Error" }, { "x-amzn-errortype": "ServerException", "content-type": "application/json" });
      }
      return send(200, { jobId, jobName: body.jobName, jobArn: `arn:aws:batch:eu-west-1:123456789012:job/${jobId}` }, { "content-type": "application/json" });
    }
    if (req.method === "POST" && req.url?.startsWith("/v1/listjobs")) {
      calls.push({ service: "batch", operation: "ListJobs", body });
      const filter = (body.filters ?? []).find((f: { name: string }) => f.name === "JOB_NAME");
      const pattern = filter ? String(filter.values[0]) : "*";
      const matches = (name: string) => (pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : name === pattern);
      const jobSummaryList = jobs.filter((j) => j.jobQueue === body.jobQueue && matches(j.jobName)).reverse();
      return send(200, { jobSummaryList }, { "content-type": "application/json" });
    }
    if (req.method === "POST" && req.url?.startsWith("/v1/describejobs")) {
      calls.push({ service: "batch", operation: "DescribeJobs", body });
      const found = jobs.filter((j) => (body.jobs as string[]).includes(j.jobId));
      return send(200, { jobs: found.map((j) => ({ ...j, jobDefinition: "stub", startedAt: 0 })) }, { "content-type": "application/json" });
    }
    if (req.method === "POST" && req.url?.startsWith("/v1/terminatejob")) {
      calls.push({ service: "batch", operation: "TerminateJob", body });
      const job = jobs.find((j) => j.jobId === body.jobId);
      if (job && job.status !== "SUCCEEDED" && job.status !== "FAILED") Object.assign(job, { status: "FAILED", statusReason: body.reason });
      return send(200, {}, { "content-type": "application/json" });
    }
    calls.push({ service: "batch", operation: `${req.method} ${req.url}`, body });
    return send(400, { __type: "UnknownOperationException", message: `${req.method} ${req.url}` });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    submitted,
    table,
    addJob: (job) => {
      jobs.push(job);
    },
    throttleNext: (n) => {
      throttle = n;
    },
    failAfterCreatingNext: (n) => {
      failAfterCreate = n;
    },
    rejectNext: (n, message) => {
      reject = { count: n, message };
    },
    jobs,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
