/**
 * The documents a container job definition is made of, pure so they are table-tested: its
 * `containerProperties` and the policy of a Fargate execution role.
 */
import { AssignPublicIp, type ContainerProperties, LogDriver, type MountPoint, PlatformCapability, ResourceType, type Volume } from "@aws-sdk/client-batch";
import type { PolicyStatement } from "./iam";
import type { Platform } from "./jobDefinition";

/**
 * A private ECR image: `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>`, the FIPS form
 * (`dkr.ecr-fips`) and the dual-stack form (`<account>.dkr-ecr.<region>.on.aws`), by tag or digest.
 */
const PRIVATE_ECR_IMAGE =
  /^(\d{12})\.dkr[.-]ecr(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|on\.aws)\/([a-z0-9._\/-]+?)(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/;

/**
 * What a Fargate execution role needs: write this definition's log streams, and pull the image when it
 * lives in a private ECR repository (that repository only). `ecr:GetAuthorizationToken` is account-wide
 * by design: IAM supports no resource for it.
 */
export function executionRoleStatements(logGroupArn: string, image: string, partition: string): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    { Sid: "WriteJobLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${logGroupArn}:log-stream:*`] },
  ];
  const ecr = PRIVATE_ECR_IMAGE.exec(image);
  if (ecr) {
    const [, account, region, repository] = ecr;
    statements.push(
      { Sid: "EcrLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
      {
        Sid: "PullJobImage",
        Effect: "Allow",
        Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        Resource: [`arn:${partition}:ecr:${region}:${account}:repository/${repository}`],
      },
    );
  }
  return statements;
}

/**
 * Builds the `containerProperties` document, typed by the Batch SDK so a wrong field name fails `tsc`
 * rather than the deployment.
 */
export function containerProperties(p: {
  image: string;
  vcpus: number;
  memoryMiB: number;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: Volume[];
  mountPoints?: MountPoint[];
  jobRoleArn?: string;
  executionRoleArn?: string;
  platform: Platform;
  assignPublicIp: boolean;
  logGroupName: string;
  region: string;
  streamPrefix: string;
}): ContainerProperties {
  const fargate = p.platform === PlatformCapability.FARGATE;
  return {
    image: p.image,
    command: p.command,
    resourceRequirements: [
      { type: ResourceType.VCPU, value: String(p.vcpus) },
      { type: ResourceType.MEMORY, value: String(p.memoryMiB) },
    ],
    // Batch on EC2 does not reliably set AWS_REGION (older ECS agents never did) and the JS SDK v3 has no
    // metadata fallback, so every container is told its region explicitly.
    environment: Object.entries({ ...p.environment, AWS_REGION: p.region, AWS_DEFAULT_REGION: p.region })
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([name, value]) => ({ name, value })),
    volumes: p.volumes,
    mountPoints: p.mountPoints,
    jobRoleArn: p.jobRoleArn,
    executionRoleArn: p.executionRoleArn,
    logConfiguration: {
      logDriver: LogDriver.AWSLOGS,
      options: {
        "awslogs-group": p.logGroupName,
        "awslogs-region": p.region,
        "awslogs-stream-prefix": p.streamPrefix,
      },
    },
    ...(fargate
      ? {
          fargatePlatformConfiguration: { platformVersion: "LATEST" },
          networkConfiguration: { assignPublicIp: p.assignPublicIp ? AssignPublicIp.ENABLED : AssignPublicIp.DISABLED },
        }
      : {}),
  };
}
