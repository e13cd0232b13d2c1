/**
 * Putting a file where the trigger starts a run: which keys the stack's trigger acts on (so `submit`
 * refuses a key that would never start one, before uploading anything), and the upload itself with
 * `@aws-sdk/lib-storage` (one PutObject below the part size, a multipart upload above it) that a Ctrl-C
 * aborts without leaving parts behind.
 */
import { createReadStream } from "node:fs";
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, UploadPartCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { type KeyRejection, keyRejection, keyRejectionRule, S3_MAX_KEY_BYTES } from "../../contract";
import { fmtInt, formatBytes } from "../app/format";
import type { StackOutputs } from "../stack/outputs";


/** S3 objects are at most 5 TiB (S3 user guide, "Uploading and copying objects using multipart upload", limits). */
export const S3_MAX_OBJECT_BYTES = 5 * 1024 ** 4;

/** lib-storage's default part size, S3's minimum for every part but the last: 5 MiB. */
export const UPLOAD_PART_BYTES = 5 * 1024 * 1024;

/** Parts uploaded at once (lib-storage `queueSize`): at most this many parts are buffered in memory. */
export const UPLOAD_QUEUE_SIZE = 4;

/** What to do about each rejection. */
const KEY_FIX: Readonly<Record<KeyRejection, string>> = {
  "ignored-prefix": "use a key outside it",
  "outside-prefix": "use a key that starts with it",
  "outside-suffix": "use a key that ends with it",
  "folder-marker": 'use a key that does not end in "/"',
};

/**
 * Why the trigger would never start a run for `key` (of an object of `sizeBytes`), as one line naming the
 * rule and what to do, or `undefined` when it would. These are the stack's notification filter
 * (`trigger.prefix` / `trigger.suffix`) and what the trigger itself ignores (keys under
 * `trigger.outputPrefix`, "Create folder" markers), plus S3's own key limit.
 */
export function keyProblem(key: string, sizeBytes: number, outputs: Pick<StackOutputs, "triggerPrefix" | "triggerSuffix" | "outputPrefix">): string | undefined {
  const bytes = Buffer.byteLength(key, "utf8");
  if (key === "") return "the key is empty; pass --key with a key under the trigger prefix, or leave --key out";
  if (bytes > S3_MAX_KEY_BYTES) return `key ${JSON.stringify(key.slice(0, 60))}… is ${fmtInt(bytes)} bytes in UTF-8; S3 keys are at most ${fmtInt(S3_MAX_KEY_BYTES)} bytes`;
  const filter = { prefix: outputs.triggerPrefix, suffix: outputs.triggerSuffix, outputPrefix: outputs.outputPrefix };
  const rejected = keyRejection(key, sizeBytes, filter);
  if (rejected) return `key ${JSON.stringify(key)} starts no run: ${keyRejectionRule(rejected, filter)}; ${KEY_FIX[rejected]}`;
  return undefined;
}

/** How far an upload is. */
export interface UploadProgress {
  loadedBytes: number;
  totalBytes: number;
  /** Parts uploaded so far (1 for a single PutObject). */
  part: number;
}

/** What to upload, and where. */
export interface UploadRequest {
  s3: S3Client;
  bucket: string;
  /**
   * The account that must own `bucket` (S3 `ExpectedBucketOwner` on every call): were the stack's bucket
   * deleted and its name taken by another account, S3 refuses the upload instead of delivering the file there.
   */
  expectedBucketOwner?: string;
  key: string;
  path: string;
  sizeBytes: number;
  /** Aborting it aborts the upload (Ctrl-C). */
  signal: AbortSignal;
  onProgress?: (progress: UploadProgress) => void;
  /** @default UPLOAD_PART_BYTES */
  partBytes?: number;
}

/** A finished upload. */
export interface UploadResult {
  kind: "done";
  versionId?: string;
  eTag?: string;
  multipart: boolean;
}

/** An upload aborted by the signal, and what was cleaned up. */
export interface AbortedUpload {
  kind: "aborted";
  /** The multipart upload that was aborted (its parts deleted), if one had been created. */
  uploadId?: string;
}

/** The part size lib-storage uses for a file: 5 MiB, or more when 10,000 parts would not hold it. */
export function partBytesFor(sizeBytes: number, partBytes = UPLOAD_PART_BYTES): number {
  return Math.max(partBytes, Math.ceil(sizeBytes / 10_000));
}

/** `3 parts of 5.0 MiB`, or `one PutObject`. */
export function describeUploadShape(sizeBytes: number, partBytes = UPLOAD_PART_BYTES): string {
  const part = partBytesFor(sizeBytes, partBytes);
  return sizeBytes <= part ? "one PutObject" : `${fmtInt(Math.ceil(sizeBytes / part))} parts of ${formatBytes(part)}`;
}

type Send = S3Client["send"];

/**
 * Uploads a file with lib-storage's `Upload` and returns its version id and ETag, or what an abort cleaned
 * up. lib-storage's own `abort()` settles `done()` at once but cancels nothing that is in flight, and it
 * sends AbortMultipartUpload only once its part uploads have returned. So the client it gets is this
 * module's view of `s3`: part uploads (and the single PutObject) carry the abort signal, which cancels
 * them in flight; after the abort none is sent; and once nothing is in flight the multipart upload is
 * aborted exactly once (by lib-storage or, if it has not yet, here), so no uploaded part stays billed
 * (S3 API reference, AbortMultipartUpload).
 */
export async function uploadFile(request: UploadRequest): Promise<UploadResult | AbortedUpload> {
  const { s3, bucket, key, expectedBucketOwner } = request;
  const cancel = new AbortController();
  const inflight = new Set<Promise<unknown>>();
  const abortedUploads = new Set<string>();
  let uploadId: string | undefined;

  const abortError = () => Object.assign(new Error("Upload aborted."), { name: "AbortError" });
  const send = (async (command: Parameters<Send>[0], options?: Parameters<Send>[1]) => {
    const isTransfer = command instanceof UploadPartCommand || command instanceof PutObjectCommand;
    if (isTransfer && cancel.signal.aborted) throw abortError();
    if (command instanceof AbortMultipartUploadCommand && abortedUploads.has(command.input.UploadId ?? "")) return {};
    // lib-storage builds its own abort from Bucket, Key and UploadId only.
    if (command instanceof AbortMultipartUploadCommand && expectedBucketOwner) command.input.ExpectedBucketOwner ??= expectedBucketOwner;
    const call = s3.send(command, isTransfer ? { ...options, abortSignal: cancel.signal } : options);
    inflight.add(call);
    try {
      const out = await call;
      if (command instanceof CreateMultipartUploadCommand) uploadId = (out as { UploadId?: string }).UploadId;
      if (command instanceof AbortMultipartUploadCommand && command.input.UploadId) abortedUploads.add(command.input.UploadId);
      return out;
    } finally {
      inflight.delete(call);
    }
  }) as Send;
  // Everything but `send` (config, middleware) is the real client's: lib-storage reads its config.
  const client: S3Client = Object.create(s3, { send: { value: send } });

  const body = createReadStream(request.path);
  const upload = new Upload({
    client,
    // lib-storage sends these params with PutObject, CreateMultipartUpload, UploadPart and CompleteMultipartUpload.
    params: { Bucket: bucket, Key: key, Body: body, ...(expectedBucketOwner ? { ExpectedBucketOwner: expectedBucketOwner } : {}) },
    queueSize: UPLOAD_QUEUE_SIZE,
    partSize: partBytesFor(request.sizeBytes, request.partBytes),
    leavePartsOnError: false,
  });
  upload.on("httpUploadProgress", (p) => request.onProgress?.({ loadedBytes: p.loaded ?? 0, totalBytes: p.total ?? request.sizeBytes, part: p.part ?? 1 }));
  const onAbort = () => {
    cancel.abort();
    void upload.abort();
  };
  if (request.signal.aborted) onAbort();
  else request.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const out = await upload.done();
    return { kind: "done", multipart: uploadId !== undefined, ...(out.VersionId ? { versionId: out.VersionId } : {}), ...(out.ETag ? { eTag: out.ETag } : {}) };
  } catch (error) {
    if (!cancel.signal.aborted) throw error;
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
    if (uploadId !== undefined && !abortedUploads.has(uploadId)) {
      abortedUploads.add(uploadId);
      try {
        await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, ...(expectedBucketOwner ? { ExpectedBucketOwner: expectedBucketOwner } : {}) }));
      } catch (abortFailure) {
        // Already gone is what we wanted; anything else leaves parts behind and must be said.
        if ((abortFailure as { name?: string }).name !== "NoSuchUpload") throw abortFailure;
      }
    }
    return { kind: "aborted", ...(uploadId !== undefined ? { uploadId } : {}) };
  } finally {
    request.signal.removeEventListener("abort", onAbort);
    body.destroy();
  }
}
