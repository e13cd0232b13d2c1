/**
 * The policy pack as Pulumi loads it: started like `pulumi preview --policy-pack policy` starts it (in its
 * own folder, compiled by ts-node from the root's node_modules), then driven over its gRPC Analyzer
 * service as the engine drives it: describe, configure, analyze one resource, analyze the stack.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EnforcementLevel } from "@pulumi/pulumi/proto/analyzer_pb";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, policies } from "../../policy/policies";
import { analyze, analyzerInfo, analyzeStack, configure, type EngineResource, PACK_DIR, type RunningPack, startPack, UNKNOWN } from "./analyzer";

let pack: RunningPack;
const version = (JSON.parse(readFileSync(join(PACK_DIR, "package.json"), "utf8")) as { version: string }).version;
const LEVELS: Record<string, EnforcementLevel> = { advisory: EnforcementLevel.ADVISORY, mandatory: EnforcementLevel.MANDATORY, disabled: EnforcementLevel.DISABLED };

beforeAll(async () => {
  pack = await startPack();
});
afterAll(() => pack?.stop());

/** What the engine gets for a report: the policy's description, then the message (@pulumi/policy's server). */
const reported = (policy: string, message: string) => `${policies.find((p) => p.name === policy)!.description}\n${message}`;
const urn = (type: string, name: string) => `urn:pulumi:dev::batch-pipeline::batch-pipeline:storage:InputBucket$${type}::${name}`;
const logGroup = (retentionInDays?: number): EngineResource => ({
  type: "aws:cloudwatch/logGroup:LogGroup",
  name: "app-logs",
  urn: urn("aws:cloudwatch/logGroup:LogGroup", "app-logs"),
  properties: { name: "/aws/lambda/app", ...(retentionInDays === undefined ? {} : { retentionInDays }) },
});

describe("the policy pack, started as `pulumi preview --policy-pack policy` starts it", () => {
  it("is a nodejs pack whose version is policy/package.json's", () => {
    const project = parse(readFileSync(join(PACK_DIR, "PulumiPolicy.yaml"), "utf8")) as Record<string, unknown>;
    expect(project.runtime).toBe("nodejs");
    // A version in PulumiPolicy.yaml would override package.json's; there is one home for it.
    expect(project.version).toBeUndefined();
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("serves every policy with its enforcement level, and accepts configuration", async () => {
    const info = await analyzerInfo(pack);
    expect(info.getName()).toBe(PACK_NAME);
    expect(info.getVersion()).toBe(version);
    expect(info.getSupportsconfig()).toBe(true);
    expect(info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()])).toEqual(policies.map((p) => [p.name, LEVELS[p.enforcementLevel ?? PACK_ENFORCEMENT_LEVEL]]));
    const retention = info.getPoliciesList().find((p) => p.getName() === "cloudwatch-log-group-retention")!;
    expect(retention.getConfigschema()!.getProperties()!.toJavaScript()).toEqual({ minimumRetentionDays: { type: "integer", minimum: 1, default: 1, description: "The shortest retention a log group may have, in days." } });
    // The engine waits for the port before the preview starts: ts-node type-checks the pack first.
    console.log(`policy pack served after ${pack.startMs} ms`);
  });

  it("reports a resource's violation at its level, then at the level and settings --policy-pack-config gives", async () => {
    const message = `LogGroup "app-logs": retentionInDays is not set, so its logs are kept (and billed) forever; set retentionInDays to one of CloudWatch's values, e.g. 30.`;
    // A resource's violation carries no URN: the engine files it under the resource it asked about.
    expect(await analyze(pack, logGroup())).toEqual([{ policy: "cloudwatch-log-group-retention", level: EnforcementLevel.MANDATORY, message: reported("cloudwatch-log-group-retention", message), urn: "" }]);
    expect(await analyze(pack, logGroup(14))).toEqual([]);

    await configure(pack, { "cloudwatch-log-group-retention": { level: EnforcementLevel.ADVISORY, properties: { minimumRetentionDays: 30 } } });
    expect(await analyze(pack, logGroup(14))).toEqual([
      {
        policy: "cloudwatch-log-group-retention",
        level: EnforcementLevel.ADVISORY,
        message: reported("cloudwatch-log-group-retention", `LogGroup "app-logs": retentionInDays is 14, below the 30 days this stack's policy configuration requires; set it to at least 30.`),
        urn: "",
      },
    ]);
    await configure(pack, { "cloudwatch-log-group-retention": { level: EnforcementLevel.DISABLED } });
    expect(await analyze(pack, logGroup())).toEqual([]);
    await configure(pack, {});
  });

  it("on a first preview, links a new bucket to its settings by input dependencies and reports what is not known yet as not run", async () => {
    const bucketUrn = urn("aws:s3/bucket:Bucket", "input");
    const companion = (type: string, name: string, properties: Record<string, unknown>): EngineResource => ({
      type,
      name,
      urn: urn(type, name),
      // The bucket's name is computed by the provider: unknown until it exists.
      properties: { bucket: UNKNOWN, ...properties },
      propertyDependencies: { bucket: [bucketUrn] },
    });
    const stack: EngineResource[] = [
      { type: "aws:s3/bucket:Bucket", name: "input", urn: bucketUrn, properties: { bucket: UNKNOWN, arn: UNKNOWN, forceDestroy: false } },
      companion("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "input-public-access", { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }),
      companion("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "input-encryption", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }),
      // Built from the bucket's ARN, so unknown too.
      companion("aws:s3/bucketPolicy:BucketPolicy", "input-tls-only", { policy: UNKNOWN }),
    ];
    expect(await analyzeStack(pack, stack)).toEqual([
      {
        policy: "s3-bucket-owner-enforced",
        level: EnforcementLevel.MANDATORY,
        message: reported("s3-bucket-owner-enforced", `Bucket "input" has no BucketOwnershipControls; add an aws.s3.BucketOwnershipControls for it with rule.objectOwnership "BucketOwnerEnforced" (ACLs disabled).`),
        urn: bucketUrn,
      },
      {
        policy: "s3-bucket-tls-only",
        level: EnforcementLevel.ADVISORY,
        message: `can't run policy 's3-bucket-tls-only' from policy pack '${PACK_NAME}@v${version}' during preview: string value at .policy can't be known during preview`,
        urn: "",
      },
    ]);
  });
});
