/**
 * The policy pack against the default stack (index.ts under mocks, no config): every policy passes,
 * and each deliberately broken copy of one of the stack's own resources fails exactly one policy, with
 * exactly its message. Policies are run as the engine runs them (tests/policy/support.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { resourcePrefix } from "../../stack/naming";
import { policies } from "../../policy/policies";
import { PROJECT, STACK } from "../mocks";
import { loadStack, named, runPack, type StackResource, variant, type Violation, without } from "./support";

const P = resourcePrefix(PROJECT, STACK);
let stack: StackResource[];

beforeAll(async () => {
  stack = await loadStack();
});

const T = {
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  role: "aws:iam/role:Role",
  attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  bucket: "aws:s3/bucket:Bucket",
  launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  jobDefinition: "aws:batch/jobDefinition:JobDefinition",
  computeEnvironment: "aws:batch/computeEnvironment:ComputeEnvironment",
  jobQueue: "aws:batch/jobQueue:JobQueue",
} as const;

/** The custom resource (not the component of the same name) called `name`. */
const resource = (name: string) => stack.find((r) => r.name === name && r.type.startsWith("aws:"))!;
const urnOf = (name: string) => resource(name).urn;
/** Index of the statement with this Sid in a resource's JSON policy input. */
const sidIndex = (name: string, sid: string) => (JSON.parse(resource(name).inputs.policy).Statement as { Sid?: string }[]).findIndex((s) => s.Sid === sid);
const editPolicy = (edit: (doc: { Statement: Record<string, unknown>[] }) => void) => (props: Record<string, any>) => {
  const doc = JSON.parse(props.policy);
  edit(doc);
  props.policy = JSON.stringify(doc);
};
const one = (policy: string, name: string, message: string, level = "mandatory"): Violation[] => [{ policy, level: level as Violation["level"], message, urn: urnOf(name) }];

describe("the default stack", () => {
  it("passes every policy of the pack", async () => {
    expect(policies.length).toBe(16);
    expect(await runPack(stack)).toEqual([]);
  });

  it("has every kind of resource the bad variants below break (so none of them is vacuous)", () => {
    for (const type of Object.values(T)) expect(stack.some((r) => r.type === type), type).toBe(true);
    expect(named(stack, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "-input-public-access").propertyDependencies.bucket).toEqual([urnOf(`${P}-input`)]);
  });
});

interface BadVariant {
  what: string;
  resources: () => StackResource[];
  expected: () => Violation[];
}

const iam: BadVariant[] = [
  {
    what: "a role policy (JSON text) allowing a wildcard action",
    resources: () => variant(stack, `${P}-trigger-policy`, editPolicy((doc) => (doc.Statement[sidIndex(`${P}-trigger-policy`, "DeadLetter")]!.Action = ["sqs:*"]))),
    expected: () => one("iam-no-wildcard-allow", `${P}-trigger-policy`, `RolePolicy "${P}-trigger-policy": policy Statement[${sidIndex(`${P}-trigger-policy`, "DeadLetter")}] (Sid "DeadLetter") allows the wildcard action "sqs:*"; list each action the principal calls by its full name (a wildcard only belongs in a Deny).`),
  },
  {
    what: "a role policy given as an object, allowing everything but IAM through NotAction",
    resources: () =>
      variant(stack, `${P}-orchestrator-job-policy`, (props) => {
        props.policy = { Version: "2012-10-17", Statement: { Effect: "Allow", NotAction: "iam:*", Resource: "*" } };
      }),
    expected: () => one("iam-no-wildcard-allow", `${P}-orchestrator-job-policy`, `RolePolicy "${P}-orchestrator-job-policy": policy Statement[0] is an Allow with NotAction "iam:*", which allows every other action of every service; use Action with the exact actions the principal calls.`),
  },
  {
    what: "a role whose trust policy allows sts:*",
    resources: () => variant(stack, `${P}-trigger-role`, (props) => (props.assumeRolePolicy = props.assumeRolePolicy.replace('"sts:AssumeRole"', '"sts:*"'))),
    expected: () => one("iam-no-wildcard-allow", `${P}-trigger-role`, `Role "${P}-trigger-role": assumeRolePolicy Statement[0] allows the wildcard action "sts:*"; list each action the principal calls by its full name (a wildcard only belongs in a Deny).`),
  },
  {
    what: "a role with an inline policy allowing s3:Get?bject",
    resources: () => variant(stack, `${P}-process-role`, (props) => (props.inlinePolicies = [{ name: "read", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "s3:Get?bject", Resource: "*" }] }) }])),
    expected: () => one("iam-no-wildcard-allow", `${P}-process-role`, `Role "${P}-process-role": inlinePolicies[0].policy Statement[0] allows the wildcard action "s3:Get?bject"; list each action the principal calls by its full name (a wildcard only belongs in a Deny).`),
  },
  {
    what: "a role policy that is not a policy document",
    resources: () => variant(stack, `${P}-trigger-policy`, (props) => (props.policy = "s3:GetObject on everything")),
    expected: () => one("iam-no-wildcard-allow", `${P}-trigger-policy`, `RolePolicy "${P}-trigger-policy": policy is not an IAM policy document (JSON text or an object with a Statement), so its statements cannot be checked; give a document whose Statement lists exact actions.`),
  },
  {
    what: "an instance role given AmazonEC2FullAccess",
    resources: () => variant(stack, `${P}-spot-instance-ecs`, (props) => (props.policyArn = "arn:aws:iam::aws:policy/AmazonEC2FullAccess")),
    expected: () => one("iam-no-full-access-managed-policies", `${P}-spot-instance-ecs`, `RolePolicyAttachment "${P}-spot-instance-ecs": policyArn "arn:aws:iam::aws:policy/AmazonEC2FullAccess" is a full-access managed policy; attach a policy that grants only the actions and resources the principal uses.`),
  },
  {
    what: "a role with AdministratorAccess in managedPolicyArns",
    resources: () => variant(stack, `${P}-trigger-role`, (props) => (props.managedPolicyArns = ["arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess", "arn:aws:iam::aws:policy/AdministratorAccess"])),
    expected: () => one("iam-no-full-access-managed-policies", `${P}-trigger-role`, `Role "${P}-trigger-role": managedPolicyArns[1] "arn:aws:iam::aws:policy/AdministratorAccess" is a full-access managed policy; attach a policy that grants only the actions and resources the principal uses.`),
  },
];

const bucket = `${P}-input`;
const s3: BadVariant[] = [
  {
    what: "the bucket without its public access block",
    resources: () => without(stack, `${bucket}-public-access`),
    expected: () => one("s3-bucket-public-access-blocked", bucket, `Bucket "${bucket}" has no BucketPublicAccessBlock; add an aws.s3.BucketPublicAccessBlock for it with blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets set to true.`),
  },
  {
    what: "a public access block that lets bucket policies make the bucket public",
    resources: () =>
      variant(stack, `${bucket}-public-access`, (props) => {
        props.blockPublicPolicy = false;
        delete props.restrictPublicBuckets;
      }),
    expected: () => one("s3-bucket-public-access-blocked", `${bucket}-public-access`, `BucketPublicAccessBlock "${bucket}-public-access": blockPublicPolicy, restrictPublicBuckets are not true, so Bucket "${bucket}" can be made public; set blockPublicAcls, blockPublicPolicy, ignorePublicAcls, restrictPublicBuckets to true.`),
  },
  {
    what: "the bucket without ownership controls",
    resources: () => without(stack, `${bucket}-ownership`),
    expected: () => one("s3-bucket-owner-enforced", bucket, `Bucket "${bucket}" has no BucketOwnershipControls; add an aws.s3.BucketOwnershipControls for it with rule.objectOwnership "BucketOwnerEnforced" (ACLs disabled).`),
  },
  {
    what: "ownership controls that keep ACLs (ObjectWriter)",
    resources: () => variant(stack, `${bucket}-ownership`, (props) => (props.rule.objectOwnership = "ObjectWriter")),
    expected: () => one("s3-bucket-owner-enforced", `${bucket}-ownership`, `BucketOwnershipControls "${bucket}-ownership": rule.objectOwnership is "ObjectWriter", so ACLs on Bucket "${bucket}" still grant access; set it to "BucketOwnerEnforced".`),
  },
  {
    what: "the bucket without an encryption configuration",
    resources: () => without(stack, `${bucket}-encryption`),
    expected: () => one("s3-bucket-encrypted", bucket, `Bucket "${bucket}" has no BucketServerSideEncryptionConfiguration; add one whose rule sets applyServerSideEncryptionByDefault.sseAlgorithm to "AES256" or "aws:kms".`),
  },
  {
    what: "an encryption configuration without a default algorithm",
    resources: () => variant(stack, `${bucket}-encryption`, (props) => (props.rules = [{ bucketKeyEnabled: true }])),
    expected: () => one("s3-bucket-encrypted", `${bucket}-encryption`, `BucketServerSideEncryptionConfiguration "${bucket}-encryption": no rule sets applyServerSideEncryptionByDefault.sseAlgorithm (found [null]); set it to "AES256" or "aws:kms".`),
  },
  {
    what: "the bucket without its TLS-only policy",
    resources: () => without(stack, `${bucket}-tls-only`),
    expected: () => one("s3-bucket-tls-only", bucket, `Bucket "${bucket}" has no BucketPolicy, so it accepts plain HTTP; add an aws.s3.BucketPolicy with a Deny of "s3:*" for Principal "*" on the bucket and its objects when aws:SecureTransport is "false".`),
  },
  {
    what: "a bucket policy whose Deny applies to TLS requests instead",
    resources: () => variant(stack, `${bucket}-tls-only`, editPolicy((doc) => ((doc.Statement[0]!.Condition as any).Bool["aws:SecureTransport"] = "true"))),
    expected: () => {
      const arn = resource(bucket).outputs.arn;
      return one("s3-bucket-tls-only", `${bucket}-tls-only`, `BucketPolicy "${bucket}-tls-only": policy has no statement that denies plain HTTP; add a Deny of "s3:*" for Principal "*" on ${arn} and ${arn}/* when aws:SecureTransport is "false".`);
    },
  },
  {
    what: "a bucket policy whose Deny covers the objects but not the bucket",
    resources: () => variant(stack, `${bucket}-tls-only`, editPolicy((doc) => (doc.Statement[0]!.Resource = [(doc.Statement[0]!.Resource as string[])[1]]))),
    expected: () => {
      const arn = resource(bucket).outputs.arn;
      return one("s3-bucket-tls-only", `${bucket}-tls-only`, `BucketPolicy "${bucket}-tls-only": policy has no statement that denies plain HTTP; add a Deny of "s3:*" for Principal "*" on ${arn} and ${arn}/* when aws:SecureTransport is "false".`);
    },
  },
];

const lt = `${P}-spot-lt`;
const ec2: BadVariant[] = [
  {
    what: "a launch template that accepts IMDSv1",
    resources: () => variant(stack, lt, (props) => (props.metadataOptions.httpTokens = "optional")),
    expected: () => one("ec2-launch-template-imdsv2", lt, `LaunchTemplate "${lt}": metadataOptions.httpTokens is "optional"; set it to "required" so instances answer metadata requests only with an IMDSv2 session token.`),
  },
  {
    what: "a launch template without metadata options",
    resources: () => variant(stack, lt, (props) => delete props.metadataOptions),
    expected: () => one("ec2-launch-template-imdsv2", lt, `LaunchTemplate "${lt}": metadataOptions.httpTokens is not set (EC2 then accepts IMDSv1); set it to "required" so instances answer metadata requests only with an IMDSv2 session token.`),
  },
  {
    what: "a launch template with an unencrypted root volume",
    resources: () => variant(stack, lt, (props) => (props.blockDeviceMappings[0].ebs.encrypted = "false")),
    expected: () => one("ec2-launch-template-encrypted-volumes", lt, `LaunchTemplate "${lt}": blockDeviceMappings[0] ("/dev/xvda") ebs.encrypted is "false"; set it to "true".`),
  },
  {
    what: "a launch template that maps no volume (the AMI's root volume as it is)",
    resources: () => variant(stack, lt, (props) => delete props.blockDeviceMappings),
    expected: () => one("ec2-launch-template-encrypted-volumes", lt, `LaunchTemplate "${lt}": blockDeviceMappings is empty, so the root volume keeps the AMI's settings, unencrypted unless the account encrypts EBS by default; add a mapping for the root device with ebs.encrypted "true".`),
  },
];

const logs = `${P}-trigger-logs`;
const jd = `${P}-process-jd`;
const ce = `${P}-ondemand-ce`;
const queue = `${P}-low-queue`;
const other: BadVariant[] = [
  {
    what: "a log group without retention",
    resources: () => variant(stack, logs, (props) => delete props.retentionInDays),
    expected: () => one("cloudwatch-log-group-retention", logs, `LogGroup "${logs}": retentionInDays is not set, so its logs are kept (and billed) forever; set retentionInDays to one of CloudWatch's values, e.g. 30.`),
  },
  {
    what: "a log group with retention 0 (never expire)",
    resources: () => variant(stack, logs, (props) => (props.retentionInDays = 0)),
    expected: () => one("cloudwatch-log-group-retention", logs, `LogGroup "${logs}": retentionInDays is 0, so its logs are kept (and billed) forever; set retentionInDays to one of CloudWatch's values, e.g. 30.`),
  },
  {
    what: "a job definition without a timeout",
    resources: () => variant(stack, jd, (props) => delete props.timeout),
    expected: () => one("batch-job-definition-timeout", jd, `JobDefinition "${jd}": timeout.attemptDurationSeconds is not set, so a hung attempt runs (and holds its vCPUs) until someone terminates it; set timeout.attemptDurationSeconds, at least 60.`),
  },
  {
    what: "a job definition without a retry strategy",
    resources: () => variant(stack, jd, (props) => delete props.retryStrategy),
    expected: () => one("batch-job-definition-retry-catch-all", jd, `JobDefinition "${jd}": retryStrategy is not set, so an attempt lost to Spot reclamation is not retried; set retryStrategy.attempts and evaluateOnExits ending with { onReason: "*", action: "EXIT" }.`),
  },
  {
    what: "a job definition retrying without rules",
    resources: () => variant(stack, jd, (props) => (props.retryStrategy.evaluateOnExits = [])),
    expected: () => one("batch-job-definition-retry-catch-all", jd, `JobDefinition "${jd}": retryStrategy.evaluateOnExits is empty, so Batch retries every failure until attempts run out; end it with { onReason: "*", action: "EXIT" }.`),
  },
  {
    what: "a job definition whose rules end with a Spot RETRY (the catch-all EXIT dropped)",
    resources: () => variant(stack, jd, (props) => props.retryStrategy.evaluateOnExits.pop()),
    expected: () => one("batch-job-definition-retry-catch-all", jd, `JobDefinition "${jd}": retryStrategy.evaluateOnExits[1] {"action":"RETRY","onStatusReason":"Your Spot Task was interrupted*"} is the last rule and not a catch-all EXIT, so Batch retries every failure no rule matches; append { onReason: "*", action: "EXIT" }.`),
  },
  {
    what: "a job definition whose catch-all retries",
    resources: () => variant(stack, jd, (props) => (props.retryStrategy.evaluateOnExits.at(-1).action = "RETRY")),
    expected: () => one("batch-job-definition-retry-catch-all", jd, `JobDefinition "${jd}": retryStrategy.evaluateOnExits[2] {"action":"RETRY","onReason":"*"} is the last rule and not a catch-all EXIT, so Batch retries every failure no rule matches; append { onReason: "*", action: "EXIT" }.`),
  },
  {
    what: "a compute environment with a fixed name",
    resources: () => variant(stack, ce, (props) => (props.name = "pipeline-ondemand")),
    expected: () => one("batch-compute-environment-replaceable", ce, `ComputeEnvironment "${ce}": name is fixed ("pipeline-ondemand"), so a replacement cannot exist beside the old environment and must wait for its deletion, which a queue still using it blocks; remove name (or use namePrefix) so Pulumi creates the replacement first.`),
  },
  {
    what: "a compute environment replaced delete-before-create",
    resources: () => variant(stack, ce, (_props, resource) => (resource.deleteBeforeReplace = true)),
    expected: () => one("batch-compute-environment-replaceable", ce, `ComputeEnvironment "${ce}": the deleteBeforeReplace resource option deletes the environment before its replacement exists; remove it so the replacement is created and the queues repointed before the old environment is deleted.`),
  },
  {
    what: "a job queue that never cancels stuck RUNNABLE jobs (advisory)",
    resources: () => variant(stack, queue, (props) => delete props.jobStateTimeLimitActions),
    expected: () => one("batch-job-queue-runnable-time-limit", queue, `JobQueue "${queue}": jobStateTimeLimitActions has no RUNNABLE entry, so a job no environment can place (too big for every instance type, or the environments at maxVcpus) stays RUNNABLE at the head of the queue; add { state: "RUNNABLE", action: "CANCEL", maxTimeSeconds: 3600, reason: "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT" } and the other stuck reasons.`, "advisory"),
  },
];

describe.each([
  ["IAM", iam],
  ["S3", s3],
  ["EC2 launch templates", ec2],
  ["logs and Batch", other],
])("%s: a bad variant of a real resource fails exactly its policy, with its message", (_group, variants) => {
  it.each(variants.map((v) => [v.what, v] as const))("%s", async (_what, v) => {
    expect(await runPack(v.resources())).toEqual(v.expected());
  });
});

describe("the permissions boundary (stack config permissionsBoundaryArn, deploy/'s boundary policy)", () => {
  const BOUNDARY = "arn:aws:iam::123456789012:policy/batch-pipeline-permissions-boundary-test";
  const configured = { "iam-role-permissions-boundary": { permissionsBoundaryArn: BOUNDARY } };
  const roles = () => stack.filter((r) => r.type === T.role);
  /** The stack as the pipeline declares it with permissionsBoundaryArn set (tests/deploy/roles.test.ts checks that it does). */
  const bounded = () => stack.map((r) => (r.type === T.role ? { ...r, inputs: { ...r.inputs, permissionsBoundary: BOUNDARY }, outputs: { ...r.outputs, permissionsBoundary: BOUNDARY } } : r));

  it("is required of every role when the pack is configured with it, and a stack whose roles carry it passes", async () => {
    expect(roles().length).toBeGreaterThan(3);
    expect(await runPack(stack, configured)).toEqual(
      roles().map((r) => ({
        policy: "iam-role-permissions-boundary",
        level: "mandatory",
        message: `Role "${r.name}": permissionsBoundary is not set, not "${BOUNDARY}"; a role without the boundary can be given any permission, so the deploy role may not create it.`,
        urn: r.urn,
      })),
    );
    expect(await runPack(bounded(), configured)).toEqual([]);
  });

  it("without configuration, fails a role that lacks the boundary the stack's other roles carry", async () => {
    const name = `${P}-trigger-role`;
    const one = variant(bounded(), name, (props) => delete props.permissionsBoundary);
    expect(one.find((r) => r.name === name && r.type === T.role)!.inputs.permissionsBoundary).toBeUndefined();
    expect(await runPack(one)).toEqual([
      { policy: "iam-roles-share-a-boundary", level: "mandatory", message: `Role "${name}": permissionsBoundary is "not set" while other roles of the stack carry "${BOUNDARY}"; every role must carry the same boundary.`, urn: urnOf(name) },
    ]);
    expect(await runPack(one, configured)).toEqual([
      { policy: "iam-role-permissions-boundary", level: "mandatory", message: `Role "${name}": permissionsBoundary is not set, not "${BOUNDARY}"; a role without the boundary can be given any permission, so the deploy role may not create it.`, urn: urnOf(name) },
      { policy: "iam-roles-share-a-boundary", level: "mandatory", message: `Role "${name}": permissionsBoundary is "not set" while other roles of the stack carry "${BOUNDARY}"; every role must carry the same boundary.`, urn: urnOf(name) },
    ]);
  });
});

describe("enforcement levels and settings, configured as with --policy-pack-config", () => {
  it("lowers or disables a policy by name, and keeps the others at their own level", async () => {
    const broken = variant(without(stack, `${bucket}-ownership`), `${P}-spot-instance-ecs`, (props) => (props.policyArn = "arn:aws:iam::aws:policy/AmazonS3FullAccess"));
    const levels = async (config: Parameters<typeof runPack>[1]) => (await runPack(broken, config)).map((v) => [v.policy, v.level]);
    expect(await levels({})).toEqual([
      ["iam-no-full-access-managed-policies", "mandatory"],
      ["s3-bucket-owner-enforced", "mandatory"],
    ]);
    expect(await levels({ "iam-no-full-access-managed-policies": "advisory", "s3-bucket-owner-enforced": { enforcementLevel: "disabled" } })).toEqual([["iam-no-full-access-managed-policies", "advisory"]]);
  });

  it("checks log retention against a configured minimum", async () => {
    const groups = stack.filter((r) => r.type === T.logGroup);
    expect(groups.map((g) => g.inputs.retentionInDays)).toEqual(groups.map(() => 30));
    expect(await runPack(stack, { "cloudwatch-log-group-retention": { minimumRetentionDays: 30 } })).toEqual([]);
    const violations = await runPack(stack, { "cloudwatch-log-group-retention": { enforcementLevel: "advisory", minimumRetentionDays: 90 } });
    expect(violations).toEqual(
      groups.map((g) => ({
        policy: "cloudwatch-log-group-retention",
        level: "advisory",
        message: `LogGroup "${g.name}": retentionInDays is 30, below the 90 days this stack's policy configuration requires; set it to at least 90.`,
        urn: g.urn,
      })),
    );
  });
});
