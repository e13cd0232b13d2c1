/**
 * The documents a container job definition is made of, pure so they are table-tested: its
 * `containerProperties` and the policy of a Fargate execution role.
 */
import {
  AssignPublicIp,
  type ContainerProperties,
  LogDriver,
  type MountPoint,
  PlatformCapability,
  ResourceType,
  type Secret,
  type Ulimit,
  type Volume,
} from "@aws-sdk/client-batch";
import type { PolicyStatement } from "./iam";
import type { Platform } from "./jobDefinition";
import { PRIVATE_ECR_IMAGE, secretSource } from "../stack/containerRules";

/**
 * What a Fargate execution role needs: write this definition's log streams, and pull the image when it
 * lives in a private ECR repository (that repository only). `ecr:GetAuthorizationToken` is account-wide
 * by design: IAM supports no resource for it.
 */
export function executionRoleStatements(logGroupArn: string, image: string, partition: string, secrets: readonly Secret[] = []): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    { Sid: "WriteJobLogs", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: [`${logGroupArn}:log-stream:*`] },
    ...secretStatements(secrets),
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
 * What ECS needs to put `secrets` into the container ("Specifying sensitive data", Batch user guide): the
 * execution role reads exactly the parameters (`ssm:GetParameters`) and secrets
 * (`secretsmanager:GetSecretValue`) named, nothing else: complete ARNs (stack/containerRules.ts refuses
 * partial ones), so no wildcard is ever granted. Secrets encrypted with a customer managed KMS key also need `kms:Decrypt`, which this
 * does not grant (the key's policy can grant it to the role).
 */
export function secretStatements(secrets: readonly Secret[]): PolicyStatement[] {
  const sources = secrets.map((s) => secretSource(s.valueFrom ?? "")).filter((s) => s !== undefined);
  const parameters = [...new Set(sources.filter((s) => s.service === "ssm").map((s) => s.arn))].sort();
  const secretArns = [...new Set(sources.filter((s) => s.service === "secretsmanager").map((s) => s.arn))].sort();
  const statements: PolicyStatement[] = [
    ...(parameters.length > 0 ? [{ Sid: "ReadParameters", Effect: "Allow" as const, Action: ["ssm:GetParameters"], Resource: parameters }] : []),
    ...(secretArns.length > 0 ? [{ Sid: "ReadSecrets", Effect: "Allow" as const, Action: ["secretsmanager:GetSecretValue"], Resource: secretArns }] : []),
  ];
  return statements;
}

/**
 * What a job role needs to mount the EFS volumes that use IAM authorization (`authorizationConfig.iam:
 * ENABLED`; "Amazon EFS volumes", Batch user guide; "Using IAM to control file system data access", EFS
 * user guide): `elasticfilesystem:ClientMount` on the file system, and `ClientWrite` unless every mount of
 * the volume is read-only; through the access point when one is given (`elasticfilesystem:AccessPointArn`).
 */
export function efsClientStatements(volumes: readonly Volume[], mountPoints: readonly MountPoint[], partition: string, region: string, account: string): PolicyStatement[] {
  return volumes.flatMap((v, i): PolicyStatement[] => {
    const efs = v.efsVolumeConfiguration;
    if (efs?.authorizationConfig?.iam !== "ENABLED") return [];
    const mounts = mountPoints.filter((m) => m.sourceVolume === v.name);
    const write = mounts.some((m) => m.readOnly !== true);
    const accessPoint = efs.authorizationConfig.accessPointId;
    return [{
      Sid: `MountEfs${i}`,
      Effect: "Allow",
      Action: ["elasticfilesystem:ClientMount", ...(write ? ["elasticfilesystem:ClientWrite"] : [])],
      Resource: [`arn:${partition}:elasticfilesystem:${region}:${account}:file-system/${efs.fileSystemId}`],
      ...(accessPoint
        ? { Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": `arn:${partition}:elasticfilesystem:${region}:${account}:access-point/${accessPoint}` } } }
        : {}),
    }];
  });
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
  secrets?: Secret[];
  gpus?: number;
  ephemeralStorageGiB?: number;
  sharedMemoryMiB?: number;
  ulimits?: Ulimit[];
  user?: string;
  readonlyRootFilesystem?: boolean;
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
      ...(p.gpus !== undefined ? [{ type: ResourceType.GPU, value: String(p.gpus) }] : []),
    ],
    // Batch on EC2 does not reliably set AWS_REGION (older ECS agents never did) and the JS SDK v3 has no
    // metadata fallback, so every container is told its region explicitly.
    environment: Object.entries({ ...p.environment, AWS_REGION: p.region, AWS_DEFAULT_REGION: p.region })
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([name, value]) => ({ name, value })),
    volumes: p.volumes,
    mountPoints: p.mountPoints,
    secrets: p.secrets,
    ...(p.sharedMemoryMiB !== undefined ? { linuxParameters: { sharedMemorySize: p.sharedMemoryMiB } } : {}),
    ulimits: p.ulimits,
    user: p.user,
    readonlyRootFilesystem: p.readonlyRootFilesystem,
    ...(p.ephemeralStorageGiB !== undefined ? { ephemeralStorage: { sizeInGiB: p.ephemeralStorageGiB } } : {}),
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
