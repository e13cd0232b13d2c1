import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyJson } from "./iam";

export interface InputBucketArgs {
  /** Delete an object version this many days after a newer one replaced it. @default undefined (kept) */
  readonly noncurrentVersionExpirationDays?: number;
  /** Delete objects this many days after they were created. @default undefined (kept) */
  readonly expireObjectsAfterDays?: number;
  /** Tags on every resource the component creates. @default {} */
  readonly tags?: Readonly<Record<string, string>>;
}

/** The calls that write a bucket policy: the input bucket's own policy denies them to every principal once written. */
export const BUCKET_POLICY_WRITES = ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"] as const;

/** Lifecycle rules for the args: aborting stale multipart uploads always, expirations when set. Pure. */
export function lifecycleRules(s: Pick<InputBucketArgs, "noncurrentVersionExpirationDays" | "expireObjectsAfterDays">): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
  const rules: aws.types.input.s3.BucketLifecycleConfigurationRule[] = [
    {
      // Failed multipart uploads are invisible and billed forever unless aborted.
      id: "abort-incomplete-uploads",
      status: "Enabled",
      filter: {},
      abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
    },
  ];
  if (s.noncurrentVersionExpirationDays !== undefined) {
    rules.push({
      id: "expire-old-versions",
      status: "Enabled",
      filter: {},
      noncurrentVersionExpiration: { noncurrentDays: s.noncurrentVersionExpirationDays },
    });
  }
  if (s.expireObjectsAfterDays !== undefined) {
    rules.push({ id: "expire-objects", status: "Enabled", filter: {}, expiration: { days: s.expireObjectsAfterDays } });
  }
  return rules;
}

/**
 * The bucket objects land in: private (public access blocked, ACLs disabled), encrypted, TLS only, and
 * versioned so each upload of a key is a distinct object version with its own run; its policy is written once.
 */
export class InputBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  /** Resolves once versioning, encryption and the policy are in place: wire notifications after it. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: InputBucketArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("batch-pipeline:storage:InputBucket", name, {}, opts);
    const tags = args.tags ?? {};
    this.bucket = new aws.s3.Bucket(`${name}`, { forceDestroy: false, tags }, { parent: this });
    this.name = this.bucket.bucket;
    this.arn = this.bucket.arn;
    const bucket = this.bucket.id;

    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      { parent: this },
    );
    const ownership = new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent: this },
    );
    const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      { bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
      { parent: this },
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket, versioningConfiguration: { status: "Enabled" } },
      { parent: this },
    );
    const policy = new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      {
        bucket,
        policy: policyJson([
          {
            Sid: "DenyInsecureTransport",
            Effect: "Deny",
            Principal: "*",
            Action: ["s3:*"],
            Resource: [this.bucket.arn, pulumi.interpolate`${this.bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
          // Written once: no principal of the account (the deploy role included, whatever its identity policy
          // allows) may rewrite or remove this policy afterwards, so a deploy job can never open the data to
          // another account through it. S3 keeps that right for the account's root user alone ("the root
          // principal in a bucket owner's AWS account can perform the GetBucketPolicy, PutBucketPolicy, and
          // DeleteBucketPolicy API actions, even if their bucket policy explicitly denies the root principal's
          // access", PutBucketPolicy, Amazon S3 API Reference).
          {
            Sid: "DenyPolicyRewrites",
            Effect: "Deny",
            Principal: "*",
            Action: [...BUCKET_POLICY_WRITES],
            Resource: [this.bucket.arn],
          },
        ]),
      },
      // S3 rejects a bucket policy while the public access block is being applied. Kept on delete: the deploy
      // role may not delete it (above), and deleting the bucket removes it.
      { parent: this, dependsOn: [publicAccess], retainOnDelete: true },
    );
    const lifecycle = new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      { bucket, rules: lifecycleRules(args) },
      // Noncurrent-version rules need versioning first.
      { parent: this, dependsOn: [versioning] },
    );
    this.ready = [publicAccess, ownership, encryption, versioning, policy, lifecycle];
    this.registerOutputs({ name: this.name, arn: this.arn });
  }
}
