/**
 * The IAM roles GitHub Actions assumes through OIDC (no long-lived keys): the deploy role, which runs
 * `pulumi up` of the stacks (deploy.yml), and the preview role, which may only read what `pulumi preview`
 * reads (preview.yml), so a pull request that edits a workflow still cannot change the account. Every
 * name-scoped resource is scoped to the exact resource prefix of each stack (infra/naming.ts), so the
 * role cannot touch another stack's or team's roles, buckets or queues. `render.ts` writes the JSON.
 */
import { resourcePrefix } from "../infra/naming";
import { POWERTOOLS_LAYER_ACCOUNT, POWERTOOLS_LAYER_NAME, powertoolsLayerParameter } from "../infra/lambdaPackages";

/** What the documents depend on: the account, the repository, the state backend, the stacks. */
export interface RoleParams {
  /** The AWS account the stacks deploy to. */
  readonly accountId: string;
  /** `aws`, or `aws-us-gov` / `aws-cn`. */
  readonly partition: string;
  /** The GitHub repository, `owner/name`, whose workflows may assume the roles. */
  readonly repository: string;
  /** The Pulumi project (Pulumi.yaml `name`): with each stack name it makes the resource prefix. */
  readonly project: string;
  /** The stacks the deploy role may update (each has a Pulumi.<stack>.yaml). */
  readonly stacks: readonly string[];
  /** The stack deployed only after approval, through the GitHub environment of the same name. */
  readonly protectedStack: string;
  /** The S3 bucket of the Pulumi backend (`PULUMI_BACKEND_URL`, `s3://<bucket>/<prefix>`). */
  readonly stateBucket: string;
  /** The key prefix of the backend within the bucket; "" for the whole bucket. */
  readonly statePrefix: string;
  /** The KMS key of the stacks' `awskms://` secrets provider. */
  readonly secretsKeyArn: string;
}

export interface Statement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource?: string[];
  Principal?: { Federated: string };
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Statement[];
}

/** GitHub's OIDC issuer, as the IAM identity provider is named and as its condition keys begin. */
export const GITHUB_OIDC = "token.actions.githubusercontent.com";

/** The subjects of the tokens each workflow job gets (GitHub's default `sub` claim formats). */
export const subjects = {
  /** deploy.yml: the dev job runs on pushes to main, the protected stack's job in its environment. */
  deploy: (p: RoleParams) => [`repo:${p.repository}:ref:refs/heads/main`, `repo:${p.repository}:environment:${p.protectedStack}`],
  /** preview.yml: jobs of pull_request events without an environment. */
  preview: (p: RoleParams) => [`repo:${p.repository}:pull_request`],
};

/** Services the deploy role may pass the stack's roles to: Batch (instances, jobs), ECS tasks, EC2, Lambda. */
export const PASSED_TO_SERVICES = ["batch.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com", "lambda.amazonaws.com"];
/**
 * How the Spot Fleet role of the `spot` compute environment is named after the stack prefix: component
 * `<prefix>-spot` (infra/platform.ts) names it `<prefix>-spot-spot-fleet-role-<7 characters>`
 * (infra/computeEnvironment.ts; the prefix is at most 28 characters, so Pulumi autonames it in full).
 */
export const SPOT_FLEET_ROLE = "-spot-spot-fleet-role-";
/** Service-linked roles a first deploy may have to create: Batch's, and EC2 Spot's for the Spot environment. */
export const SERVICE_LINKED_ROLES = { "batch.amazonaws.com": "AWSServiceRoleForBatch", "spot.amazonaws.com": "AWSServiceRoleForEC2Spot" };
/** The AWS managed policies the stack attaches (the ECS agent's instance role, the Spot Fleet role). */
export const ATTACHED_AWS_POLICIES = ["service-role/AmazonEC2ContainerServiceforEC2Role", "service-role/AmazonEC2SpotFleetTaggingRole"];

/** The trust policy of a role that GitHub workflows with these token subjects may assume. */
export function githubOidcTrust(p: RoleParams, sub: readonly string[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "GitHubActions",
        Effect: "Allow",
        Principal: { Federated: `arn:${p.partition}:iam::${p.accountId}:oidc-provider/${GITHUB_OIDC}` },
        Action: ["sts:AssumeRoleWithWebIdentity"],
        Condition: { StringEquals: { [`${GITHUB_OIDC}:aud`]: "sts.amazonaws.com", [`${GITHUB_OIDC}:sub`]: [...sub] } },
      },
    ],
  };
}

const statement = (Sid: string, Action: string[], Resource: string[], Condition?: Statement["Condition"]): Statement => ({
  Sid,
  Effect: "Allow",
  Action,
  Resource,
  ...(Condition ? { Condition } : {}),
});

/** What both roles do with the Pulumi state and secrets: the deploy role writes, the preview role reads. */
function stateStatements(p: RoleParams, write: boolean): Statement[] {
  const bucket = `arn:${p.partition}:s3:::${p.stateBucket}`;
  return [
    statement("StateList", ["s3:ListBucket"], [bucket]),
    statement("StateObjects", write ? ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] : ["s3:GetObject"], [`${bucket}/${p.statePrefix}*`]),
    statement("Secrets", write ? ["kms:Encrypt", "kms:Decrypt"] : ["kms:Decrypt"], [p.secretsKeyArn]),
  ];
}

/** What the program reads while it runs, in a preview as in an update (its provider function calls). */
function lookupStatements(p: RoleParams): Statement[] {
  return [
    // aws.ec2.getVpc / getSubnets (network.mode default), awsx's availability zones (mode new).
    statement("NetworkLookups", ["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeAvailabilityZones"], ["*"]),
    // AWS's public parameter with the pinned Powertools layer's ARN (infra/pipeline.ts).
    statement("PowertoolsParameter", ["ssm:GetParameter"], [`arn:${p.partition}:ssm:*:*:parameter${powertoolsLayerParameter("*")}`]),
    // awsx.ecr.Image logs Docker in to the registry.
    statement("RegistryLogin", ["ecr:GetAuthorizationToken"], ["*"]),
  ];
}

/** The preview role: state and secrets read, the program's lookups, nothing that changes the account. */
export function previewRolePolicy(p: RoleParams): PolicyDocument {
  return { Version: "2012-10-17", Statement: [...stateStatements(p, false), ...lookupStatements(p)] };
}

/**
 * IAM's size limit of one managed policy, in characters without whitespace ("IAM and AWS STS quotas");
 * a role's inline policies share 10,240, so the deploy role's permissions are three managed policies.
 */
export const MANAGED_POLICY_MAX_CHARS = 6144;

/** The themes the deploy role's permissions are grouped in, each one managed policy (or one per stack, see below). */
const THEMES = {
  "state-iam": ["StateList", "StateObjects", "Secrets", "NetworkLookups", "PowertoolsParameter", "RegistryLogin", "Roles", "AttachAwsManagedPolicies", "PassRolesToTheirServices", "PassSpotFleetRole", "InstanceProfiles", "OperatorPolicy", "ServiceLinkedRoles"],
  compute: ["Batch", "BatchDescribe", "LaunchTemplatesAndSecurityGroups", "NetworkMutations", "Ec2Describe"],
} as const;

/** A policy document's size as IAM counts it: characters without whitespace outside strings. */
export const policyChars = (doc: PolicyDocument) => JSON.stringify(doc).length;

/**
 * The deploy role's managed policies: what `pulumi up` of these stacks creates, reads, updates and deletes,
 * by theme (`state-iam`, `compute`, `services`). Each stack adds its own resource ARNs, so a theme that no
 * longer fits in {@link MANAGED_POLICY_MAX_CHARS} becomes one policy per stack (`services-dev`,
 * `services-prod`, …; a role takes 10 managed policies by default).
 * @throws when even one stack's part of a theme is over the limit
 */
export function deployRolePolicies(p: RoleParams): Record<string, PolicyDocument> {
  const themeOf = (sid: string) => (Object.entries(THEMES).find(([, sids]) => (sids as readonly string[]).includes(sid))?.[0] ?? "services");
  const documents = (stacks: readonly string[]): Record<string, PolicyDocument> => {
    const byTheme: Record<string, Statement[]> = { "state-iam": [], compute: [], services: [] };
    for (const statement of deployStatements({ ...p, stacks })) byTheme[themeOf(statement.Sid)]!.push(statement);
    return Object.fromEntries(Object.entries(byTheme).map(([theme, Statement]) => [theme, { Version: "2012-10-17", Statement }]));
  };
  const together = documents(p.stacks);
  const out: Record<string, PolicyDocument> = {};
  for (const [theme, doc] of Object.entries(together)) {
    if (policyChars(doc) <= MANAGED_POLICY_MAX_CHARS) {
      out[theme] = doc;
      continue;
    }
    for (const stack of p.stacks) {
      const part = documents([stack])[theme]!;
      if (policyChars(part) > MANAGED_POLICY_MAX_CHARS) {
        throw new Error(`deploy role policy ${theme}-${stack} is ${policyChars(part)} characters, over IAM's ${MANAGED_POLICY_MAX_CHARS} for a managed policy`);
      }
      out[`${theme}-${stack}`] = part;
    }
  }
  return out;
}

function deployStatements(p: RoleParams): Statement[] {
  const prefixes = p.stacks.map((s) => resourcePrefix(p.project, s));
  const arns = (format: (prefix: string) => string) => prefixes.map(format);
  const iam = (kind: string) => arns((x) => `arn:${p.partition}:iam::${p.accountId}:${kind}/${x}-*`);
  const regional = (service: string, resource: (prefix: string) => string) => arns((x) => `arn:${p.partition}:${service}:*:${p.accountId}:${resource(x)}`);
  const ec2 = [`arn:${p.partition}:ec2:*:${p.accountId}:*`];
  return [
    ...stateStatements(p, true),
    ...lookupStatements(p),
    statement("Roles", [
      "iam:CreateRole", "iam:GetRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy",
      "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole",
      "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy",
    ], iam("role")),
    statement("AttachAwsManagedPolicies", ["iam:AttachRolePolicy", "iam:DetachRolePolicy"], iam("role"), {
      ArnEquals: { "iam:PolicyARN": ATTACHED_AWS_POLICIES.map((name) => `arn:${p.partition}:iam::aws:policy/${name}`) },
    }),
    statement("PassRolesToTheirServices", ["iam:PassRole"], iam("role"), { StringEquals: { "iam:PassedToService": PASSED_TO_SERVICES } }),
    // BEST_FIT Spot environments hand Batch a Spot Fleet role, which Batch passes on to Spot Fleet: only
    // that role (the `spot` environment's, infra/platform.ts and infra/computeEnvironment.ts) goes there.
    statement("PassSpotFleetRole", ["iam:PassRole"], arns((x) => `arn:${p.partition}:iam::${p.accountId}:role/${x}${SPOT_FLEET_ROLE}*`), {
      StringEquals: { "iam:PassedToService": "spotfleet.amazonaws.com" },
    }),
    statement("InstanceProfiles", [
      "iam:CreateInstanceProfile", "iam:GetInstanceProfile", "iam:DeleteInstanceProfile", "iam:AddRoleToInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile", "iam:UntagInstanceProfile", "iam:ListInstanceProfileTags",
    ], iam("instance-profile")),
    statement("OperatorPolicy", [
      "iam:CreatePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
      "iam:DeletePolicy", "iam:TagPolicy", "iam:UntagPolicy", "iam:ListPolicyTags",
    ], iam("policy")),
    statement("ServiceLinkedRoles", ["iam:CreateServiceLinkedRole"],
      Object.entries(SERVICE_LINKED_ROLES).map(([service, role]) => `arn:${p.partition}:iam::${p.accountId}:role/aws-service-role/${service}/${role}`),
      { StringEquals: { "iam:AWSServiceName": Object.keys(SERVICE_LINKED_ROLES) } },
    ),
    statement("Batch", [
      "batch:CreateComputeEnvironment", "batch:UpdateComputeEnvironment", "batch:DeleteComputeEnvironment",
      "batch:CreateJobQueue", "batch:UpdateJobQueue", "batch:DeleteJobQueue",
      "batch:RegisterJobDefinition", "batch:DeregisterJobDefinition",
      "batch:TagResource", "batch:UntagResource", "batch:ListTagsForResource",
    ], [
      ...regional("batch", (x) => `compute-environment/${x}-*`),
      ...regional("batch", (x) => `job-queue/${x}-*`),
      ...regional("batch", (x) => `job-definition/${x}-*`),
    ]),
    statement("BatchDescribe", ["batch:DescribeComputeEnvironments", "batch:DescribeJobQueues", "batch:DescribeJobDefinitions"], ["*"]),
    // EC2 names its resources by generated ids (lt-…, sg-…, vpc-…), so these are scoped to the account.
    statement("LaunchTemplatesAndSecurityGroups", [
      "ec2:CreateLaunchTemplate", "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", "ec2:DeleteLaunchTemplate",
      "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress",
      "ec2:CreateTags", "ec2:DeleteTags",
    ], ec2),
    statement("NetworkMutations", [
      "ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:CreateSubnet", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute",
      "ec2:CreateInternetGateway", "ec2:DeleteInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
      "ec2:CreateRouteTable", "ec2:DeleteRouteTable", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
      "ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute",
      "ec2:AllocateAddress", "ec2:ReleaseAddress", "ec2:DisassociateAddress", "ec2:CreateNatGateway", "ec2:DeleteNatGateway",
    ], ec2),
    statement("Ec2Describe", [
      "ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules",
      "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcAttribute", "ec2:DescribeInternetGateways", "ec2:DescribeRouteTables",
      "ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute", "ec2:DescribeNatGateways", "ec2:DescribeNetworkAcls", "ec2:DescribeAccountAttributes",
    ], ["*"]),
    statement("InputBucket", [
      "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:PutBucketTagging", "s3:GetBucketTagging",
      "s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock", "s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls",
      "s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration", "s3:PutBucketVersioning", "s3:GetBucketVersioning",
      "s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration",
      "s3:PutBucketNotification", "s3:GetBucketNotification",
      // What the provider reads back of every bucket, whether or not the program sets it.
      "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment",
      "s3:GetBucketLogging", "s3:GetReplicationConfiguration", "s3:GetBucketObjectLockConfiguration",
    ], arns((x) => `arn:${p.partition}:s3:::${x}-*`)),
    statement("IdempotencyTable", [
      "dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTimeToLive",
      "dynamodb:UpdateTimeToLive", "dynamodb:DescribeContinuousBackups", "dynamodb:UpdateContinuousBackups",
      "dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:ListTagsOfResource",
    ], regional("dynamodb", (x) => `table/${x}-*`)),
    statement("TriggerFunction", [
      "lambda:CreateFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
      "lambda:DeleteFunction", "lambda:ListVersionsByFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:PutFunctionConcurrency",
      "lambda:DeleteFunctionConcurrency", "lambda:TagResource", "lambda:UntagResource", "lambda:ListTags", "lambda:AddPermission",
      "lambda:RemovePermission", "lambda:GetPolicy", "lambda:PutFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig",
      "lambda:GetFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig", "lambda:GetRuntimeManagementConfig",
    ], regional("lambda", (x) => `function:${x}-*`)),
    // CreateFunction with a layer needs the layer version; AWS publishes Powertools' from its own account
    // (infra/lambdaPackages.ts), and a layer of that name in any other account is someone else's code.
    statement("PowertoolsLayer", ["lambda:GetLayerVersion"], [`arn:${p.partition}:lambda:*:${POWERTOOLS_LAYER_ACCOUNT}:layer:${POWERTOOLS_LAYER_NAME}:*`]),
    statement("DeadLetterQueue", [
      "sqs:CreateQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:DeleteQueue", "sqs:TagQueue", "sqs:UntagQueue",
      "sqs:ListQueueTags", "sqs:GetQueueUrl",
    ], regional("sqs", (x) => `${x}-*`)),
    statement("FailureTopic", [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource",
      "sns:ListTagsForResource", "sns:Subscribe",
    ], regional("sns", (x) => `${x}-*`)),
    statement("EventRules", [
      "events:PutRule", "events:DescribeRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule",
      "events:TagResource", "events:UntagResource", "events:ListTagsForResource",
    ], regional("events", (x) => `rule/${x}-*`)),
    statement("LogGroups", [
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
      "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource",
    ], ["batch", "lambda", "events"].flatMap((source) => regional("logs", (x) => `log-group:/aws/${source}/${x}-*`))),
    statement("LogsAccountWide", ["logs:DescribeLogGroups", "logs:PutResourcePolicy", "logs:DeleteResourcePolicy", "logs:DescribeResourcePolicies"], ["*"]),
    statement("Alarms", [
      "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
      "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource",
    ], regional("cloudwatch", (x) => `alarm:${x}-*`)),
    statement("OrchestratorRepository", [
      "ecr:CreateRepository", "ecr:DescribeRepositories", "ecr:DeleteRepository", "ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy",
      "ecr:DeleteLifecyclePolicy", "ecr:TagResource", "ecr:UntagResource", "ecr:ListTagsForResource", "ecr:PutImageTagMutability",
      "ecr:PutImageScanningConfiguration",
      // Pushing the orchestrator image (awsx.ecr.Image).
      "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
      "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages",
    ], regional("ecr", (x) => `repository/${x}-*`)),
  ];
}
