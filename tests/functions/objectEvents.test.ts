import { describe, expect, it } from "vitest";
import { keyRejection } from "../../contract/trigger";
import { decodeS3Key, parseTriggerEvent, UnsupportedEventError } from "../../functions/objectEvents";
import { BUCKET, eventBridge, record, s3Event, testEvent } from "./s3Fixtures";

describe("decodeS3Key", () => {
  it.each([
    ["incoming/plain.csv", "incoming/plain.csv"],
    ["incoming/a+b.csv", "incoming/a b.csv"],
    ["incoming/a%2Bb.csv", "incoming/a+b.csv"],
    ["incoming/a%2B+b.csv", "incoming/a+ b.csv"],
    ["incoming/caf%C3%A9+%E6%95%B0%E6%8D%AE.csv", "incoming/café 数据.csv"],
    ["incoming/100%25.csv", "incoming/100%.csv"],
    ["incoming/%F0%9F%93%8A.csv", "incoming/📊.csv"],
  ])("given %s, returns %s", (encoded, decoded) => {
    expect(decodeS3Key(encoded)).toBe(decoded);
  });
});

describe("parseTriggerEvent: S3 notifications", () => {
  it("given one versioned record, returns the object with its decoded key, size, eTag, version and sequencer", () => {
    const parsed = parseTriggerEvent(s3Event(record("incoming/my+file%2B1.csv", { versionId: "v1", size: 42, eTag: "abc", sequencer: "0A" })));
    expect(parsed).toEqual({
      created: [
        { index: 0, eventName: "ObjectCreated:Put", bucket: BUCKET, key: "incoming/my file+1.csv", sizeBytes: 42, versionId: "v1", eTag: "abc", sequencer: "0A" },
      ],
      ignored: [],
      invalid: [],
    });
  });

  it("given several records, returns every one in order", () => {
    const parsed = parseTriggerEvent(s3Event(record("incoming/a.csv"), record("incoming/b.csv"), record("incoming/c.csv")));
    expect(parsed.created.map((o) => [o.index, o.key])).toEqual([
      [0, "incoming/a.csv"],
      [1, "incoming/b.csv"],
      [2, "incoming/c.csv"],
    ]);
  });

  it("given a zero-byte object, keeps size 0", () => {
    expect(parseTriggerEvent(s3Event(record("incoming/empty", { size: 0 }))).created[0]!.sizeBytes).toBe(0);
  });

  it("given an unversioned bucket, has no version id but the sequencer", () => {
    const [object] = parseTriggerEvent(s3Event(record("incoming/u.csv", { sequencer: "0055AED6DCD90281E5" }))).created;
    expect(object).not.toHaveProperty("versionId");
    expect(object!.sequencer).toBe("0055AED6DCD90281E5");
  });

  it.each(["ObjectCreated:Put", "ObjectCreated:Post", "ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload", "s3:ObjectCreated:Put"])(
    "given %s, treats it as a creation",
    (eventName) => {
      expect(parseTriggerEvent(s3Event(record("incoming/x", { eventName }))).created).toHaveLength(1);
    },
  );

  it("given ObjectRemoved and restore events, ignores them with the reason", () => {
    const parsed = parseTriggerEvent(
      s3Event(record("incoming/gone+now.csv", { eventName: "ObjectRemoved:Delete" }), record("incoming/r.csv", { eventName: "ObjectRestore:Completed" })),
    );
    expect(parsed.created).toEqual([]);
    expect(parsed.ignored).toEqual([
      { index: 0, reason: "not-object-created", eventName: "ObjectRemoved:Delete", bucket: BUCKET, key: "incoming/gone now.csv" },
      { index: 1, reason: "not-object-created", eventName: "ObjectRestore:Completed", bucket: BUCKET, key: "incoming/r.csv" },
    ]);
  });

  it("given s3:TestEvent, ignores it", () => {
    expect(parseTriggerEvent(testEvent)).toEqual({
      created: [],
      ignored: [{ index: 0, reason: "test-event", eventName: "s3:TestEvent", bucket: BUCKET }],
      invalid: [],
    });
  });

  it("given a key under the ignored prefix, ignores it even though the notification delivered it", () => {
    const parsed = parseTriggerEvent(s3Event(record("results/run/out.csv"), record("incoming/in.csv")), { filter: { prefix: "", suffix: "", outputPrefix: "results/" } });
    expect(parsed.created.map((o) => o.key)).toEqual(["incoming/in.csv"]);
    expect(parsed.ignored).toEqual([{ index: 0, reason: "ignored-prefix", eventName: "ObjectCreated:Put", bucket: BUCKET, key: "results/run/out.csv" }]);
  });

  it("given unreadable records among good ones, reports them as invalid and keeps the good ones", () => {
    const noSize = record("incoming/nosize.csv");
    delete (noSize.s3.object as { size?: number }).size;
    const noIdentity = record("incoming/noid.csv");
    delete (noIdentity.s3.object as { sequencer?: string }).sequencer;
    const parsed = parseTriggerEvent(s3Event(record("incoming/ok.csv"), record("incoming/bad%E0%A4%A.csv"), noSize, noIdentity, "junk" as never));
    expect(parsed.created.map((o) => o.key)).toEqual(["incoming/ok.csv"]);
    expect(parsed.invalid.map((r) => r.index)).toEqual([1, 2, 3, 4]);
    expect(parsed.invalid[0]!.message).toMatch(/malformed URL-encoded key/);
    expect(parsed.invalid[1]!.message).toMatch(/no valid object size/);
    expect(parsed.invalid[2]!.message).toMatch(/neither a version id nor a sequencer/);
    expect(parsed.invalid[3]!.message).toMatch(/not an object/);
  });

  it.each([[null], ["text"], [{ hello: "world" }], [{ source: "aws.ec2", "detail-type": "EC2 Instance State-change Notification", detail: {} }]])(
    "given %j, throws UnsupportedEventError",
    (event) => {
      expect(() => parseTriggerEvent(event)).toThrow(UnsupportedEventError);
    },
  );
});

describe("parseTriggerEvent: EventBridge", () => {
  // Was "returns the object with the key as is (not URL-decoded)", which is wrong: EventBridge keys are
  // URL-encoded (Powertools for AWS Lambda (Python), s3_event.py, S3EventBridgeNotificationObject.key
  // returns unquote_plus(self["key"])).
  it("given Object Created, returns the object with its URL-decoded key, size, eTag, version and sequencer", () => {
    const parsed = parseTriggerEvent(eventBridge("incoming/a+b+%2B.csv", { versionId: "v9", size: 0, sequencer: "0B", etag: "e1" }));
    expect(parsed.created).toEqual([
      { index: 0, eventName: "Object Created", bucket: BUCKET, key: "incoming/a b +.csv", sizeBytes: 0, versionId: "v9", eTag: "e1", sequencer: "0B" },
    ]);
  });

  // Powertools for AWS Lambda (Python) S3EventBridgeNotificationObject.key: unquote_plus, as for notifications.
  it.each([
    ["incoming/plain.csv", "incoming/plain.csv"],
    ["incoming/my+file.csv", "incoming/my file.csv"],
    ["incoming/a%2Bb.csv", "incoming/a+b.csv"],
    ["incoming/100%25.csv", "incoming/100%.csv"],
    ["incoming/caf%C3%A9+%E6%95%B0%E6%8D%AE.csv", "incoming/café 数据.csv"],
    ["incoming/%F0%9F%93%8A.csv", "incoming/📊.csv"],
  ])("given the EventBridge key %s (URL-encoded, per Powertools' S3EventBridgeNotificationObject.key), returns %s", (encoded, decoded) => {
    expect(parseTriggerEvent(eventBridge(encoded)).created.map((o) => o.key)).toEqual([decoded]);
    // Exactly what a notification carrying the same key gives.
    expect(parseTriggerEvent(s3Event(record(encoded))).created.map((o) => o.key)).toEqual([decoded]);
  });

  it("given an EventBridge key with a malformed escape, reports the event as invalid, as for notifications", () => {
    const parsed = parseTriggerEvent(eventBridge("incoming/bad%E0%A4%A.csv"));
    expect(parsed.created).toEqual([]);
    expect(parsed.invalid).toEqual([{ index: 0, message: 'EventBridge Object Created event has a malformed URL-encoded key "incoming/bad%E0%A4%A.csv"' }]);
  });

  it("given Object Deleted with an encoded key, ignores it and reports the decoded key", () => {
    expect(parseTriggerEvent(eventBridge("incoming/gone+now.csv", { detailType: "Object Deleted" })).ignored).toEqual([
      { index: 0, reason: "not-object-created", eventName: "Object Deleted", bucket: BUCKET, key: "incoming/gone now.csv" },
    ]);
  });

  it("given Object Deleted, ignores it", () => {
    const parsed = parseTriggerEvent(eventBridge("incoming/x.csv", { detailType: "Object Deleted" }));
    expect(parsed.created).toEqual([]);
    expect(parsed.ignored).toEqual([{ index: 0, reason: "not-object-created", eventName: "Object Deleted", bucket: BUCKET, key: "incoming/x.csv" }]);
  });
});

describe("parseTriggerEvent: a dead-lettered invocation record (redrive)", () => {
  it("unwraps the original event from what the on-failure destination stored", () => {
    const original = s3Event(record("incoming/a+b.csv", { versionId: "v1" }));
    const deadLettered = {
      version: "1.0",
      timestamp: "2026-11-28T10:00:00.000Z",
      requestContext: { requestId: "r-1", functionArn: "arn:aws:lambda:eu-west-1:123456789012:function:trigger:$LATEST", condition: "RetriesExhausted", approximateInvokeCount: 3 },
      requestPayload: original,
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      responsePayload: { errorType: "TriggerRecordsFailedError", errorMessage: "…" },
    };
    expect(parseTriggerEvent(deadLettered)).toEqual(parseTriggerEvent(original));
    expect(parseTriggerEvent(deadLettered).created.map((c) => c.key)).toEqual(["incoming/a b.csv"]);
  });
});

// Anyone allowed to invoke the function (or a mis-set notification) can send any record: the parser keeps
// to the stack's bucket, prefix and suffix whatever the event says (issue 17).
describe("parseTriggerEvent: only the trigger's bucket, prefix and suffix", () => {
  const accept = { bucket: BUCKET, filter: { prefix: "incoming/", suffix: ".csv" } };

  it("ignores a record of another bucket, a key outside the prefix and one without the suffix, and keeps the rest", () => {
    const parsed = parseTriggerEvent(
      s3Event(
        record("incoming/a.csv", { bucket: "someone-elses-bucket", size: 10_000_000_000_000, versionId: "v1" }),
        record("elsewhere/a.csv", { versionId: "v2" }),
        record("incoming/a.exe", { versionId: "v3" }),
        record("incoming/ok.csv", { versionId: "v4" }),
        record("results/run/out.csv", { versionId: "v5" }),
      ),
      { bucket: BUCKET, filter: { ...accept.filter, outputPrefix: "results/" } },
    );
    expect(parsed.created.map((c) => c.key)).toEqual(["incoming/ok.csv"]);
    expect(parsed.ignored).toEqual([
      { index: 0, reason: "other-bucket", eventName: "ObjectCreated:Put", bucket: "someone-elses-bucket", key: "incoming/a.csv" },
      { index: 1, reason: "outside-prefix", eventName: "ObjectCreated:Put", bucket: BUCKET, key: "elsewhere/a.csv" },
      { index: 2, reason: "outside-suffix", eventName: "ObjectCreated:Put", bucket: BUCKET, key: "incoming/a.exe" },
      { index: 4, reason: "ignored-prefix", eventName: "ObjectCreated:Put", bucket: BUCKET, key: "results/run/out.csv" },
    ]);
    expect(parsed.invalid).toEqual([]);
  });

  it("checks the decoded key (a prefix spelt URL-encoded is still outside it)", () => {
    expect(parseTriggerEvent(s3Event(record("incoming%2Fa.csv", { versionId: "v" })), accept).created.map((c) => c.key)).toEqual(["incoming/a.csv"]);
    expect(parseTriggerEvent(s3Event(record("incoming+/a.csv", { versionId: "v" })), accept).ignored.map((i) => i.reason)).toEqual(["outside-prefix"]);
  });

  it("applies to the EventBridge form and to a dead-lettered event alike", () => {
    const other = eventBridge("incoming/a.csv");
    other.detail.bucket.name = "other";
    expect(parseTriggerEvent(other, accept).ignored.map((i) => i.reason)).toEqual(["other-bucket"]);
    const wrapped = { requestContext: { requestId: "r" }, requestPayload: s3Event(record("elsewhere/a.csv", { versionId: "v" })) };
    expect(parseTriggerEvent(wrapped, accept).ignored.map((i) => i.reason)).toEqual(["outside-prefix"]);
  });

  it("accepts every key of the bucket with an empty prefix and suffix", () => {
    expect(parseTriggerEvent(s3Event(record("anything", { versionId: "v" })), { bucket: BUCKET, filter: { prefix: "", suffix: "" } }).created).toHaveLength(1);
  });
});

// The S3 console's "Create folder" writes a zero-byte object keyed `<prefix>/` (S3 user guide, "Naming
// Amazon S3 objects"), delivered as an ObjectCreated event like any other.
describe("keyRejection: folder markers", () => {
  it.each([
    ["incoming/folder/", 0, true],
    ["incoming/", 0, true],
    ["/", 0, true],
    ["incoming/folder/", 1, false], // content: data whose key happens to end in `/`
    ["incoming/folder", 0, false], // an empty file is still a file
    ["incoming/folder/x", 0, false],
  ])("given key %j of %i bytes, a folder marker: %s", (key, sizeBytes, marker) => {
    expect(keyRejection(key, sizeBytes, { prefix: "", suffix: "" }) === "folder-marker").toBe(marker);
  });
});

describe.each([
  ["an S3 notification", (encodedKey: string, size: number) => s3Event(record(encodedKey, { size })), "ObjectCreated:Put"],
  ["EventBridge", (encodedKey: string, size: number) => eventBridge(encodedKey, { size }), "Object Created"],
])("parseTriggerEvent: folder markers (S3 console \"Create folder\") in %s", (_shape, event, eventName) => {
  it("given a zero-byte object whose key ends in `/`, ignores it as a folder marker", () => {
    expect(parseTriggerEvent(event("incoming/new+folder/", 0))).toEqual({
      created: [],
      ignored: [{ index: 0, reason: "folder-marker", eventName, bucket: BUCKET, key: "incoming/new folder/" }],
      invalid: [],
    });
  });

  it("decides on the decoded key: `%2F` at the end is a `/`", () => {
    expect(parseTriggerEvent(event("incoming/folder%2F", 0)).ignored.map((i) => i.reason)).toEqual(["folder-marker"]);
  });

  it("given one byte under a key ending in `/`, runs it: that is data, not a folder", () => {
    expect(parseTriggerEvent(event("incoming/folder/", 1)).created.map((o) => [o.key, o.sizeBytes])).toEqual([["incoming/folder/", 1]]);
  });

  it("given a zero-byte object whose key does not end in `/`, runs it", () => {
    expect(parseTriggerEvent(event("incoming/empty.csv", 0)).created.map((o) => o.key)).toEqual(["incoming/empty.csv"]);
  });
});
