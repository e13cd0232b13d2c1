/**
 * The one Pulumi mocks module every stack test uses. It returns realistic ids and ARNs per resource
 * type, answers the provider functions the program calls, and records every resource (inputs and
 * `dependsOn`) so tests can assert on the resource graph.
 *
 * Call `setupPulumiMocks()` BEFORE `await import()` of any module that creates resources: static
 * imports are hoisted, and resources created before mocks are set never resolve.
 */
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT_ID = "123456789012";
export const REGION = "eu-west-1";
export const PROJECT = "batch-pipeline";
export const STACK = "test";

export interface RecordedResource {
  type: string;
  name: string;
  id: string;
  inputs: Record<string, any>;
  state: Record<string, any>;
  /** Names of the resources this one depends on (explicit `dependsOn` and input dependencies). */
  dependsOn: string[];
  parent?: string;
  /** The inputs whose change replaces the resource (`replaceOnChanges`). */
  replaceOnChanges?: string[];
  /** `retainOnDelete`: a destroy or replacement leaves the cloud resource (recorded only when set). */
  retainOnDelete?: true;
}

function hex(seed: string, length: number): string {
  let h = 2166136261;
  let out = "";
  while (out.length < length) {
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 16777619) >>> 0;
    out += h.toString(16).padStart(8, "0");
    seed += out;
  }
  return out.slice(0, length);
}

const arn = (service: string, resource: string, region = REGION) =>
  `arn:aws:${service}:${region}:${ACCOUNT_ID}:${resource}`;

/** Realistic id and output state for one resource, as the AWS provider would return it. */
function fakeResource(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
  // Autonaming: physical name = logical name + 7 random characters.
  const physical = inputs.name ?? `${name}-${hex(name, 7)}`;
  switch (type) {
    case "aws:iam/role:Role":
      return { id: physical, state: { name: physical, arn: `arn:aws:iam::${ACCOUNT_ID}:role/${physical}`, uniqueId: `AROA${hex(name, 16).toUpperCase()}` } };
    case "aws:iam/instanceProfile:InstanceProfile":
      return { id: physical, state: { name: physical, arn: `arn:aws:iam::${ACCOUNT_ID}:instance-profile/${physical}` } };
    case "aws:iam/rolePolicy:RolePolicy":
      return { id: `${inputs.role}:${physical}`, state: { name: physical } };
    case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
      return { id: `${inputs.role}-${hex(name, 8)}`, state: {} };
    case "aws:ec2/securityGroup:SecurityGroup":
      return { id: `sg-${hex(name, 17)}`, state: { arn: arn("ec2", `security-group/sg-${hex(name, 17)}`) } };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { id: `lt-${hex(name, 17)}`, state: { latestVersion: 1, arn: arn("ec2", `launch-template/lt-${hex(name, 17)}`) } };
    case "aws:batch/computeEnvironment:ComputeEnvironment":
      return { id: physical, state: { name: physical, arn: arn("batch", `compute-environment/${physical}`), ecsClusterArn: arn("ecs", `cluster/${physical}`) } };
    case "aws:batch/jobQueue:JobQueue":
      return { id: arn("batch", `job-queue/${physical}`), state: { name: physical, arn: arn("batch", `job-queue/${physical}`) } };
    case "aws:batch/schedulingPolicy:SchedulingPolicy":
      return { id: arn("batch", `scheduling-policy/${physical}`), state: { name: physical, arn: arn("batch", `scheduling-policy/${physical}`) } };
    case "aws:batch/jobDefinition:JobDefinition":
      return {
        id: arn("batch", `job-definition/${physical}:1`),
        state: { name: physical, arn: arn("batch", `job-definition/${physical}:1`), arnPrefix: arn("batch", `job-definition/${physical}`), revision: 1 },
      };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { id: physical, state: { name: physical, arn: arn("logs", `log-group:${physical}`) } };
    case "aws:lambda/eventSourceMapping:EventSourceMapping": {
      const uuid = `${hex(name, 8)}-${hex(`${name}1`, 4)}-4${hex(`${name}2`, 3)}-8${hex(`${name}3`, 3)}-${hex(`${name}4`, 12)}`;
      return { id: uuid, state: { uuid, arn: arn("lambda", `event-source-mapping:${uuid}`), functionArn: inputs.functionName, state: "Enabled" } };
    }
    case "aws:sqs/queuePolicy:QueuePolicy":
      return { id: inputs.queueUrl, state: {} };
    case "aws:lambda/permission:Permission":
    case "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig":
    case "aws:s3/bucketNotification:BucketNotification":
      return { id: `${name}-${hex(name, 8)}`, state: {} };
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return { id: physical, state: { arn: arn("cloudwatch", `alarm:${physical}`) } };
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2": {
      const bucket = inputs.bucket ?? `${name}-${hex(name, 7)}`;
      return { id: bucket, state: { bucket, arn: `arn:aws:s3:::${bucket}`, bucketRegionalDomainName: `${bucket}.s3.${REGION}.amazonaws.com` } };
    }
    case "aws:sqs/queue:Queue":
      return { id: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/${physical}`, state: { name: physical, arn: arn("sqs", physical), url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT_ID}/${physical}` } };
    case "aws:dynamodb/table:Table":
      return { id: physical, state: { name: physical, arn: arn("dynamodb", `table/${physical}`) } };
    case "aws:lambda/function:Function":
      return { id: physical, state: { name: physical, arn: arn("lambda", `function:${physical}`), invokeArn: `arn:aws:apigateway:${REGION}:lambda:path/functions/${arn("lambda", `function:${physical}`)}/invocations`, qualifiedArn: arn("lambda", `function:${physical}:$LATEST`) } };
    case "aws:ecr/repository:Repository":
      return { id: physical, state: { name: physical, arn: arn("ecr", `repository/${physical}`), repositoryUrl: `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/${physical}` } };
    case "aws:cloudwatch/eventRule:EventRule":
      return { id: physical, state: { name: physical, arn: arn("events", `rule/${physical}`) } };
    case "aws:sns/topic:Topic":
      return { id: arn("sns", physical), state: { name: physical, arn: arn("sns", physical) } };
    // awsx components are remote: under mocks they have no children, so return the outputs we read.
    case "awsx:ec2:Vpc":
      return {
        id: `${name}-id`,
        state: {
          vpcId: `vpc-${hex(name, 17)}`,
          privateSubnetIds: [`subnet-${hex(name + "a", 17)}`, `subnet-${hex(name + "b", 17)}`],
          publicSubnetIds: [`subnet-${hex(name + "c", 17)}`, `subnet-${hex(name + "d", 17)}`],
        },
      };
    case "awsx:ecr:Image":
      // awsx returns the pushed image by digest, in the repository it was given.
      return { id: `${name}-id`, state: { imageUri: `${inputs.repositoryUrl ?? `${ACCOUNT_ID}.dkr.ecr.${REGION}.amazonaws.com/orchestrator`}@sha256:${hex(name, 64)}` } };
    default:
      return { id: `${name}-id`, state: { arn: arn("unknown", name) } };
  }
}

function fakeCall(token: string, inputs: Record<string, any>, partition: string): Record<string, any> {
  switch (token) {
    case "aws:index/getRegion:getRegion":
      return { id: REGION, name: REGION, region: REGION, endpoint: `ec2.${REGION}.amazonaws.com`, description: "Europe (Ireland)" };
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { id: ACCOUNT_ID, accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/ci`, userId: "AIDAEXAMPLE" };
    case "aws:index/getPartition:getPartition":
      return { id: partition, partition, dnsSuffix: partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com", reverseDnsPrefix: "com.amazonaws" };
    case "aws:ec2/getVpc:getVpc":
      return { id: "vpc-0default0000000a", cidrBlock: "172.31.0.0/16", default: true, arn: arn("ec2", "vpc/vpc-0default0000000a") };
    case "aws:ssm/getParameter:getParameter":
      // The public Powertools layer parameters hold layer version ARNs.
      return { id: inputs.name, name: inputs.name, type: "String", value: `arn:aws:lambda:${REGION}:094274105915:layer:AWSLambdaPowertoolsTypeScriptV2:44`, arn: arn("ssm", `parameter${inputs.name}`) };
    case "aws:ec2/getSubnets:getSubnets":
      return { id: REGION, ids: ["subnet-0default000000a", "subnet-0default000000b", "subnet-0default000000c"], filters: inputs.filters };
    default:
      return inputs;
  }
}

export interface MockedStack {
  /** Every resource the program registered, in registration order. */
  resources: RecordedResource[];
  /** Every provider function call, in order. */
  calls: { token: string; inputs: Record<string, any> }[];
  /** What `aws.getPartition` answers; set it to test GovCloud (`aws-us-gov`) or China (`aws-cn`). */
  partition: string;
}

/**
 * Installs the mocks and the stack config. Config keys are given without the project namespace:
 * `{ logRetentionDays: 14 }` becomes `batch-pipeline:logRetentionDays`. The stack is `test` unless given.
 */
export async function setupPulumiMocks(config: Record<string, unknown> = {}, options: { stack?: string } = {}): Promise<MockedStack> {
  const stack: MockedStack = { resources: [], calls: [], partition: "aws" };
  const edges = new Map<string, { dependsOn: string[]; parent?: string; replaceOnChanges?: string[]; retainOnDelete?: true }>();
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(config).map(([k, v]) => [`${PROJECT}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]),
    ),
  );
  await pulumi.runtime.setMocks(
    {
      newResource: (args: pulumi.runtime.MockResourceArgs) => {
        const { id, state } = fakeResource(args.type, args.name, args.inputs);
        const fullState = { ...args.inputs, ...state };
        const edge = edges.get(args.name) ?? { dependsOn: [] };
        stack.resources.push({ type: args.type, name: args.name, id, inputs: args.inputs, state: fullState, ...edge });
        return { id, state: fullState };
      },
      call: (args: pulumi.runtime.MockCallArgs) => {
        stack.calls.push({ token: args.token, inputs: args.inputs });
        return fakeCall(args.token, args.inputs, stack.partition);
      },
    },
    PROJECT,
    options.stack ?? STACK,
    false,
  );
  // Mocks are not told a resource's dependencies; the monitor's request carries them (explicit
  // `dependsOn` and those implied by inputs), exactly as the engine would see them.
  const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): any };
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: unknown) => {
    const urnName = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
    edges.set(req.getName(), {
      dependsOn: (req.getDependenciesList() as string[]).map(urnName),
      parent: req.getParent() ? urnName(req.getParent()) : undefined,
      replaceOnChanges: req.getReplaceonchangesList() as string[],
      ...(req.getRetainondelete() ? { retainOnDelete: true as const } : {}),
    });
    return register(req, callback);
  };
  return stack;
}

/** Resolves an Output (or plain value) under mocks. */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** The resources of one type, optionally whose logical name contains `nameIncludes`. */
export function ofType(stack: MockedStack, type: string, nameIncludes = ""): RecordedResource[] {
  return stack.resources.filter((r) => r.type === type && r.name.includes(nameIncludes));
}

/**
 * The one resource of `type` whose logical name contains `nameIncludes`; throws (failing the test)
 * otherwise. No vitest import here: scripts/load-program.cjs loads this module outside vitest.
 */
export function oneOf(stack: MockedStack, type: string, nameIncludes: string): RecordedResource {
  const found = ofType(stack, type, nameIncludes);
  if (found.length !== 1) throw new Error(`expected one ${type} named *${nameIncludes}*, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
  return found[0]!;
}

/** Waits until Pulumi has registered every resource the program created so far. */
export async function settle(): Promise<void> {
  // The runtime tracks every outstanding registration; this is what `pulumi up` waits on before exit.
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}
