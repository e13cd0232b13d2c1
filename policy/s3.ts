/**
 * S3: every bucket is private (public access blocked, ACLs disabled), encrypted by default, and refuses
 * plain HTTP. Since AWS provider v4 each of these is its own resource beside the bucket, so these are
 * stack policies: they look for the resource that configures each bucket, and check its settings.
 */
import type { PolicyResource, ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { asList, configuring, show, type Statement, statementsOf, subject } from "./resources";

/** Bucket resources: `aws.s3.Bucket` (v7; `BucketV2` in v6, kept as an alias). */
const BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const PUBLIC_ACCESS_BLOCK = ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"];
const OWNERSHIP_CONTROLS = ["aws:s3/bucketOwnershipControls:BucketOwnershipControls"];
const ENCRYPTION = [
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
const BUCKET_POLICY = ["aws:s3/bucketPolicy:BucketPolicy"];

/** The four settings of a public access block; all must be true for a private bucket. */
const BLOCK_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;
/** Default encryption algorithms S3 accepts (SSE-S3, SSE-KMS, DSSE-KMS). */
const SSE_ALGORITHMS = ["AES256", "aws:kms", "aws:kms:dsse"];

type Check = (bucket: PolicyResource, resources: readonly PolicyResource[], report: ReportViolation) => void;

/** A stack policy that runs `check` once per bucket of the stack. */
function perBucket(policy: Omit<StackValidationPolicy, "validateStack">, check: Check): StackValidationPolicy {
  return {
    ...policy,
    validateStack: (args, report) => {
      for (const bucket of args.resources.filter((r) => BUCKETS.includes(r.type))) check(bucket, args.resources, report);
    },
  };
}

const isTrue = (value: unknown): boolean => value === true || value === "true";

export const publicAccessBlocked = perBucket(
  {
    name: "s3-bucket-public-access-blocked",
    description: "Every S3 bucket has a public access block with all four settings on.",
    enforcementLevel: "mandatory",
    severity: "critical",
    remediationSteps: "Add an aws.s3.BucketPublicAccessBlock for the bucket with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true.",
  },
  (bucket, resources, report) => {
    const blocks = configuring(resources, bucket, PUBLIC_ACCESS_BLOCK, "bucket", "bucket");
    if (blocks.length === 0) {
      report(`${subject(bucket)} has no BucketPublicAccessBlock; add an aws.s3.BucketPublicAccessBlock for it with ${BLOCK_FLAGS.join(", ")} set to true.`, bucket.urn);
    }
    for (const block of blocks) {
      const off = BLOCK_FLAGS.filter((flag) => !isTrue(block.props[flag]));
      if (off.length > 0) {
        report(`${subject(block)}: ${off.join(", ")} ${off.length === 1 ? "is" : "are"} not true, so ${subject(bucket)} can be made public; set ${BLOCK_FLAGS.join(", ")} to true.`, block.urn);
      }
    }
  },
);

export const ownerEnforced = perBucket(
  {
    name: "s3-bucket-owner-enforced",
    description: "Every S3 bucket has ownership controls set to BucketOwnerEnforced (ACLs disabled).",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps: 'Add an aws.s3.BucketOwnershipControls for the bucket with rule.objectOwnership "BucketOwnerEnforced".',
  },
  (bucket, resources, report) => {
    const controls = configuring(resources, bucket, OWNERSHIP_CONTROLS, "bucket", "bucket");
    if (controls.length === 0) {
      report(`${subject(bucket)} has no BucketOwnershipControls; add an aws.s3.BucketOwnershipControls for it with rule.objectOwnership "BucketOwnerEnforced" (ACLs disabled).`, bucket.urn);
    }
    for (const control of controls) {
      const ownership: unknown = control.props.rule?.objectOwnership;
      if (ownership !== "BucketOwnerEnforced") {
        report(`${subject(control)}: rule.objectOwnership is ${show(ownership)}, so ACLs on ${subject(bucket)} still grant access; set it to "BucketOwnerEnforced".`, control.urn);
      }
    }
  },
);

export const encrypted = perBucket(
  {
    name: "s3-bucket-encrypted",
    description: "Every S3 bucket has a default server-side encryption configuration.",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps: 'Add an aws.s3.BucketServerSideEncryptionConfiguration for the bucket whose rule sets applyServerSideEncryptionByDefault.sseAlgorithm to "AES256" or "aws:kms".',
  },
  (bucket, resources, report) => {
    const configurations = configuring(resources, bucket, ENCRYPTION, "bucket", "bucket");
    if (configurations.length === 0) {
      report(`${subject(bucket)} has no BucketServerSideEncryptionConfiguration; add one whose rule sets applyServerSideEncryptionByDefault.sseAlgorithm to "AES256" or "aws:kms".`, bucket.urn);
    }
    for (const configuration of configurations) {
      const algorithms = asList(configuration.props.rules).map((rule) => (rule as { applyServerSideEncryptionByDefault?: { sseAlgorithm?: unknown } }).applyServerSideEncryptionByDefault?.sseAlgorithm);
      if (!algorithms.some((a) => typeof a === "string" && SSE_ALGORITHMS.includes(a))) {
        report(`${subject(configuration)}: no rule sets applyServerSideEncryptionByDefault.sseAlgorithm (found ${show(algorithms)}); set it to "AES256" or "aws:kms".`, configuration.urn);
      }
    }
  },
);

/** Whether a bucket policy statement denies every S3 action, to everyone, on the bucket and its objects, without TLS. */
function deniesInsecureTransport(statement: Statement, bucketArn: string): boolean {
  if (statement.Effect !== "Deny") return false;
  const principal = statement.Principal;
  const everyone = principal === "*" || asList((principal as { AWS?: unknown } | undefined)?.AWS).includes("*");
  const actions = asList(statement.Action);
  const resources = asList(statement.Resource);
  const coversBucket = resources.includes("*") || (resources.includes(bucketArn) && resources.includes(`${bucketArn}/*`));
  // Condition keys are case-insensitive; Bool values may be the string "false" or a boolean.
  const secureTransport = Object.entries(statement.Condition?.Bool ?? {}).find(([key]) => key.toLowerCase() === "aws:securetransport")?.[1];
  const onPlainHttp = asList(secureTransport).some((v) => v === false || v === "false");
  return everyone && (actions.includes("s3:*") || actions.includes("*")) && coversBucket && onPlainHttp;
}

export const tlsOnly = perBucket(
  {
    name: "s3-bucket-tls-only",
    description: "Every S3 bucket's policy denies all requests made without TLS (aws:SecureTransport false).",
    enforcementLevel: "mandatory",
    severity: "high",
    remediationSteps: 'Add an aws.s3.BucketPolicy with a Deny of "s3:*" for Principal "*" on the bucket and its objects when aws:SecureTransport is "false".',
  },
  (bucket, resources, report) => {
    const statement = (on: string) => `a Deny of "s3:*" for Principal "*" on ${on} when aws:SecureTransport is "false"`;
    const policies = configuring(resources, bucket, BUCKET_POLICY, "bucket", "bucket");
    if (policies.length === 0) {
      report(`${subject(bucket)} has no BucketPolicy, so it accepts plain HTTP; add an aws.s3.BucketPolicy with ${statement("the bucket and its objects")}.`, bucket.urn);
    }
    for (const policy of policies) {
      // Read only here: a new bucket's ARN (and a policy built from it) is unknown during its first
      // preview, and reading an unknown value makes Pulumi report this policy as not run (advisory).
      const statements = statementsOf(policy.props.policy) ?? [];
      const arn = String(bucket.props.arn);
      if (!statements.some((s) => deniesInsecureTransport(s, arn))) {
        report(`${subject(policy)}: policy has no statement that denies plain HTTP; add ${statement(`${arn} and ${arn}/*`)}.`, policy.urn);
      }
    }
  },
);

export const s3Policies = [publicAccessBlocked, ownerEnforced, encrypted, tlsOnly];
