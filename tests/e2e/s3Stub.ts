/**
 * The S3 side of the local AWS-compatible endpoint (awsStub.ts speaks Batch and DynamoDB): just enough of
 * S3's REST API, path-style (`/<bucket>/<key>`), for job code run as a fresh process with
 * `AWS_ENDPOINT_URL` pointing here:
 * - GetObject, with `versionId` and a `Range: bytes=a-b` header (206 and Content-Range, as S3 answers);
 *   NoSuchKey / NoSuchVersion (404) otherwise;
 * - PutObject (a plain body, or `aws-chunked` with a trailing checksum, as SDKs may send), which makes a
 *   new version when the bucket is versioned;
 * - ListObjectsV2 with `prefix`, `max-keys` and continuation tokens (a test may make pages small).
 * Every request is recorded; a test can make the next GetObject or PutObject calls fail (e.g. 503
 * SlowDown). Any other call answers 400 NotImplemented, so a test sees what the code tried.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface S3Call {
  operation: "GetObject" | "PutObject" | "ListObjectsV2" | string;
  bucket: string;
  key?: string;
  versionId?: string;
  /** The Range header of a GetObject, as sent. */
  range?: string;
  /** ListObjectsV2's prefix. */
  prefix?: string;
  status: number;
}

interface Version {
  versionId: string;
  body: Buffer;
  etag: string;
}

export interface S3Stub {
  url: string;
  calls: S3Call[];
  /** Stores an object (a new version in a versioned bucket); returns its version id ("null" when unversioned). */
  putObject(bucket: string, key: string, body: Buffer | string): string;
  /** The latest version's body, or undefined. */
  object(bucket: string, key: string): Buffer | undefined;
  /** Keys in `bucket` (latest versions), sorted. */
  keys(bucket: string): string[];
  /** Makes a bucket keep every version (its objects then get version ids). */
  versioned(bucket: string): void;
  /** The next `n` calls of `operation` answer `status` with the S3 error `code`. */
  failNext(operation: "GetObject" | "PutObject" | "ListObjectsV2", n: number, status: number, code: string): void;
  /** At most this many keys per ListObjectsV2 page (S3: 1,000). */
  pageSize: number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The payload of an `aws-chunked` body: `<hex size>[;ext]\r\n<data>\r\n` … `0\r\n<trailers>\r\n\r\n`. */
function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf("\r\n", at);
    const size = parseInt(body.subarray(at, lineEnd).toString("latin1").split(";")[0]!, 16);
    if (!size) return Buffer.concat(parts);
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

const xmlEscape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export async function startS3Stub(): Promise<S3Stub> {
  const calls: S3Call[] = [];
  const buckets = new Map<string, Map<string, Version[]>>();
  const versionedBuckets = new Set<string>();
  const failures = new Map<string, { n: number; status: number; code: string }>();
  let versionCounter = 0;

  const bucketOf = (name: string) => {
    if (!buckets.has(name)) buckets.set(name, new Map());
    return buckets.get(name)!;
  };
  const put = (bucket: string, key: string, body: Buffer) => {
    const versionId = versionedBuckets.has(bucket) ? `v${String(++versionCounter).padStart(6, "0")}` : "null";
    const etag = `"${Buffer.from(`${bucket}/${key}/${versionId}`).toString("hex").slice(0, 32)}"`;
    const objects = bucketOf(bucket);
    const version = { versionId, body, etag };
    objects.set(key, versionedBuckets.has(bucket) ? [...(objects.get(key) ?? []), version] : [version]);
    return versionId;
  };

  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    // Not `new URL`: it would resolve `.` and `..` segments, which are plain characters of an S3 key.
    const [path = "", search = ""] = req.url!.split("?", 2);
    const [bucket = "", ...rest] = path.slice(1).split("/");
    const key = rest.map(decodeURIComponent).join("/");
    const query = new URLSearchParams(search);
    const operation =
      req.method === "GET" && key === "" && query.get("list-type") === "2" ? "ListObjectsV2" : req.method === "GET" && key !== "" ? "GetObject" : req.method === "PUT" && key !== "" ? "PutObject" : `${req.method} ${req.url}`;
    const call: S3Call = { operation, bucket: decodeURIComponent(bucket), status: 200 };
    if (key) call.key = key;
    if (query.get("versionId")) call.versionId = query.get("versionId")!;
    if (req.headers.range) call.range = req.headers.range;
    if (operation === "ListObjectsV2") call.prefix = query.get("prefix") ?? "";
    calls.push(call);

    const error = (status: number, code: string, message: string) => {
      call.status = status;
      res.writeHead(status, { "content-type": "application/xml" });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`);
    };
    const failure = failures.get(operation);
    if (failure && failure.n > 0) {
      failure.n--;
      return error(failure.status, failure.code, "injected by the test");
    }

    const objects = bucketOf(call.bucket);
    switch (operation) {
      case "GetObject": {
        const versions = objects.get(key);
        if (!versions) return error(404, "NoSuchKey", "The specified key does not exist.");
        const version = call.versionId ? versions.find((v) => v.versionId === call.versionId) : versions.at(-1);
        if (!version) return error(404, "NoSuchVersion", "The specified version does not exist.");
        const size = version.body.length;
        const headers = { "content-type": "application/octet-stream", etag: version.etag, "x-amz-version-id": version.versionId, "last-modified": new Date(0).toUTCString(), "accept-ranges": "bytes" };
        const range = /^bytes=(\d+)-(\d*)$/.exec(call.range ?? "");
        if (call.range && !range) return error(400, "InvalidArgument", `unsupported Range ${call.range}`);
        if (range) {
          const first = Number(range[1]);
          const last = Math.min(range[2] === "" ? size - 1 : Number(range[2]), size - 1);
          if (first >= size) return error(416, "InvalidRange", "The requested range is not satisfiable");
          call.status = 206;
          res.writeHead(206, { ...headers, "content-range": `bytes ${first}-${last}/${size}`, "content-length": String(last - first + 1) });
          return res.end(version.body.subarray(first, last + 1));
        }
        res.writeHead(200, { ...headers, "content-length": String(size) });
        return res.end(version.body);
      }
      case "PutObject": {
        const payload = String(req.headers["content-encoding"] ?? "").includes("aws-chunked") ? decodeAwsChunked(body) : body;
        const versionId = put(call.bucket, key, payload);
        res.writeHead(200, { etag: objects.get(key)!.at(-1)!.etag, ...(versionId !== "null" ? { "x-amz-version-id": versionId } : {}) });
        return res.end();
      }
      case "ListObjectsV2": {
        const prefix = call.prefix!;
        const after = query.get("continuation-token") ?? query.get("start-after") ?? "";
        const maxKeys = Math.min(Number(query.get("max-keys") ?? 1000), stub.pageSize);
        const all = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
        const page = all.slice(0, maxKeys);
        const truncated = all.length > page.length;
        const contents = page
          .map((k) => {
            const v = objects.get(k)!.at(-1)!;
            return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${new Date(0).toISOString()}</LastModified><ETag>${xmlEscape(v.etag)}</ETag><Size>${v.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
          })
          .join("");
        res.writeHead(200, { "content-type": "application/xml" });
        return res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(call.bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>` +
            `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}` +
            `${truncated ? `<NextContinuationToken>${xmlEscape(page.at(-1)!)}</NextContinuationToken>` : ""}</ListBucketResult>`,
        );
      }
      default:
        return error(400, "NotImplemented", `the S3 stub does not implement ${operation}`);
    }
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const stub: S3Stub = {
    url: `http://127.0.0.1:${port}`,
    calls,
    putObject: (bucket, key, body) => put(bucket, key, Buffer.from(body)),
    object: (bucket, key) => buckets.get(bucket)?.get(key)?.at(-1)?.body,
    keys: (bucket) => [...(buckets.get(bucket)?.keys() ?? [])].sort(),
    versioned: (bucket) => void versionedBuckets.add(bucket),
    failNext: (operation, n, status, code) => void failures.set(operation, { n, status, code }),
    pageSize: 1000,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return stub;
}
