/**
 * What the deploy role must be allowed to call to create each resource type the program declares, as AWS
 * authorizes the create call (tests/deploy/roles.test.ts, queueDelivery.test.ts). Which further calls the AWS
 * provider makes per resource (reads, tags, waits) is not provable offline.
 */
import { ACCOUNT_ID, type MockedStack, REGION } from "../mocks";
import type { AwsRequest } from "../support/iam";

/** `https://sqs.<region>.amazonaws.com/<account>/<name>` → `arn:aws:sqs:<region>:<account>:<name>`. */
export const queueArnOfUrl = (url: string) => {
  const [, region, account, name] = /^https:\/\/sqs\.([^.]+)\.amazonaws\.com\/(\d+)\/(.+)$/.exec(url)!;
  return `arn:aws:sqs:${region}:${account}:${name}`;
};

type Recorded = MockedStack["resources"][number];
const arnOf = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT_ID}:role/${name}`;
const bucketCall = (action: string) => (r: Recorded): AwsRequest => ({ action, resource: `arn:aws:s3:::${r.inputs.bucket}`, why: r.type });

/** The `aws:RequestTag/…` and `aws:TagKeys` context of a create call that tags the resource with its `tags` input. */
const requestTags = (r: Recorded): Record<string, string | string[]> => {
  const tags = (r.inputs.tags ?? {}) as Record<string, string>;
  return { ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])), "aws:TagKeys": Object.keys(tags) };
};

/**
 * The call that creates each resource type of the stack, on the ARN AWS authorizes it against, its roles created
 * with the permissions boundary `boundary` (which IAM evaluates on each role call).
 */
export const createCalls = (boundary: string): Record<string, (r: Recorded) => AwsRequest> => ({
  // The boundary the role is created with (every role's: roles.test.ts checks it), which IAM evaluates on each role call.
  "aws:iam/role:Role": (r) => ({ action: "iam:CreateRole", resource: r.state.arn, context: r.inputs.permissionsBoundary ? { "iam:PermissionsBoundary": r.inputs.permissionsBoundary as string } : ({} as Record<string, string>), why: r.type }),
  "aws:iam/rolePolicy:RolePolicy": (r) => ({ action: "iam:PutRolePolicy", resource: role(r.inputs.role), context: { "iam:PermissionsBoundary": boundary }, why: r.type }),
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (r) => ({ action: "iam:AttachRolePolicy", resource: role(r.inputs.role), context: { "iam:PolicyARN": r.inputs.policyArn, "iam:PermissionsBoundary": boundary }, why: r.type }),
  "aws:iam/instanceProfile:InstanceProfile": (r) => ({ action: "iam:CreateInstanceProfile", resource: r.state.arn, why: r.type }),
  "aws:iam/policy:Policy": (r) => ({ action: "iam:CreatePolicy", resource: `arn:aws:iam::${ACCOUNT_ID}:policy/${r.name}-1a2b3c4`, why: r.type }),
  "aws:s3/bucket:Bucket": (r) => ({ action: "s3:CreateBucket", resource: r.state.arn, why: r.type }),
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": bucketCall("s3:PutBucketPublicAccessBlock"),
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": bucketCall("s3:PutBucketOwnershipControls"),
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": bucketCall("s3:PutEncryptionConfiguration"),
  "aws:s3/bucketVersioning:BucketVersioning": bucketCall("s3:PutBucketVersioning"),
  "aws:s3/bucketPolicy:BucketPolicy": bucketCall("s3:PutBucketPolicy"),
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": bucketCall("s3:PutLifecycleConfiguration"),
  "aws:s3/bucketNotification:BucketNotification": bucketCall("s3:PutBucketNotification"),
  // EC2 resources are created with the stack tag the program gives them (their `tags` input), sent in the create call.
  "aws:ec2/securityGroup:SecurityGroup": (r) => ({ action: "ec2:CreateSecurityGroup", resource: r.state.arn, context: requestTags(r), why: r.type }),
  "aws:ec2/launchTemplate:LaunchTemplate": (r) => ({ action: "ec2:CreateLaunchTemplate", resource: r.state.arn, context: requestTags(r), why: r.type }),
  "awsx:ec2:Vpc": (r) => ({ action: "ec2:CreateVpc", resource: arnOf("ec2", `vpc/${r.state.vpcId}`), context: requestTags(r), why: r.type }),
  "aws:batch/computeEnvironment:ComputeEnvironment": (r) => ({ action: "batch:CreateComputeEnvironment", resource: r.state.arn, why: r.type }),
  "aws:batch/jobQueue:JobQueue": (r) => ({ action: "batch:CreateJobQueue", resource: r.state.arn, why: r.type }),
  "aws:batch/jobDefinition:JobDefinition": (r) => ({ action: "batch:RegisterJobDefinition", resource: r.state.arn, why: r.type }),
  "aws:cloudwatch/logGroup:LogGroup": (r) => ({ action: "logs:CreateLogGroup", resource: r.state.arn, why: r.type }),
  "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": (r) => ({ action: "logs:PutResourcePolicy", resource: "*", why: r.type }),
  "aws:cloudwatch/metricAlarm:MetricAlarm": (r) => ({ action: "cloudwatch:PutMetricAlarm", resource: r.state.arn, why: r.type }),
  "aws:cloudwatch/eventRule:EventRule": (r) => ({ action: "events:PutRule", resource: r.state.arn, why: r.type }),
  "aws:cloudwatch/eventTarget:EventTarget": (r) => ({ action: "events:PutTargets", resource: arnOf("events", `rule/${r.inputs.rule}`), why: r.type }),
  "aws:sqs/queue:Queue": (r) => ({ action: "sqs:CreateQueue", resource: r.state.arn, why: r.type }),
  "aws:sns/topic:Topic": (r) => ({ action: "sns:CreateTopic", resource: r.state.arn, why: r.type }),
  "aws:sns/topicPolicy:TopicPolicy": (r) => ({ action: "sns:SetTopicAttributes", resource: r.inputs.arn, why: r.type }),
  "aws:dynamodb/table:Table": (r) => ({ action: "dynamodb:CreateTable", resource: r.state.arn, why: r.type }),
  "aws:lambda/function:Function": (r) => ({ action: "lambda:CreateFunction", resource: r.state.arn, why: r.type }),
  // AddPermission carries the principal it grants (lambda:Principal), which the deploy role checks.
  "aws:lambda/permission:Permission": (r) => ({ action: "lambda:AddPermission", resource: arnOf("lambda", `function:${r.inputs.function}`), context: { "lambda:Principal": r.inputs.principal }, why: r.type }),
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": (r) => ({ action: "lambda:PutFunctionEventInvokeConfig", resource: arnOf("lambda", `function:${r.inputs.functionName}`), why: r.type }),
  "aws:ecr/repository:Repository": (r) => ({ action: "ecr:CreateRepository", resource: r.state.arn, why: r.type }),
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": (r) => ({ action: "ecr:PutLifecyclePolicy", resource: arnOf("ecr", `repository/${r.inputs.repository}`), why: r.type }),
  "awsx:ecr:Image": (r) => ({ action: "ecr:PutImage", resource: arnOf("ecr", `repository/${String(r.inputs.repositoryUrl).split("/").pop()}`), why: r.type }),
  // trigger.delivery: queue. The queue policy is the queue's Policy attribute.
  "aws:sqs/queuePolicy:QueuePolicy": (r) => ({ action: "sqs:SetQueueAttributes", resource: queueArnOfUrl(r.inputs.queueUrl), why: r.type }),
  // Lambda evaluates the function the mapping invokes (lambda:FunctionArn); the mapping itself has no ARN yet.
  "aws:lambda/eventSourceMapping:EventSourceMapping": (r) => ({ action: "lambda:CreateEventSourceMapping", resource: "*", context: { "lambda:FunctionArn": r.inputs.functionName, ...requestTags(r) }, why: r.type }),
});
