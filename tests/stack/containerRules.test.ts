/**
 * Batch's rules on a job definition's container fields (stack/containerRules.ts), each edge tested: the
 * limit passes, one past it fails. Sources, Batch API reference: Volume ("up to 255 characters … letters,
 * numbers, hyphens (-), and underscores (_)"; `host` "isn't applicable to jobs that are running on Fargate
 * resources"), EFSVolumeConfiguration (rootDirectory "maximum length is 4,096 characters";
 * transitEncryptionPort "between 0 and 65,535"), EFSAuthorizationConfig (with an access point "the root
 * directory … must either be omitted or set to /" and "transit encryption must be enabled"; IAM
 * authorization "requires that TransitEncryption be ENABLED"), EphemeralStorage ("minimum supported value
 * is 21 GiB and the maximum supported value is 200 GiB"), LinuxParameters.sharedMemorySize and Ulimit ("not
 * applicable to jobs that are running on Fargate resources"), ResourceRequirement GPU ("GPUs aren't
 * available for jobs that are running on Fargate resources"), Secret.valueFrom ("the full Amazon Resource
 * Name (ARN) of the Secrets Manager secret or the full ARN of the parameter in the … Parameter Store").
 */
import { describe, expect, it } from "vitest";
import type { Volume } from "@aws-sdk/client-batch";
import { type ContainerFeatures, containerProblems, environmentProblems, problemField, secretSource } from "../../stack/containerRules";

const rules = (platform: "EC2" | "FARGATE", f: ContainerFeatures) => containerProblems(platform, f).map((p) => `${problemField(p.path)}: ${p.rule}`);
const efs = (config: NonNullable<Volume["efsVolumeConfiguration"]>): ContainerFeatures => ({ volumes: [{ name: "shared", efsVolumeConfiguration: config }] });
const FS = "fs-0123456789abcdef0";
const AP = "fsap-0123456789abcdef0";
const SSM = "arn:aws:ssm:eu-west-1:123456789012:parameter/app/db-password";
const SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/api-key-AbC123";
const PARTIAL_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/api-key";

describe("containerProblems: what Batch accepts passes", () => {
  it.each<[string, "EC2" | "FARGATE", ContainerFeatures]>([
    ["nothing extra", "EC2", {}],
    ["a host volume mounted read-only", "EC2", { volumes: [{ name: "scratch", host: { sourcePath: "/mnt/scratch" } }], mountPoints: [{ sourceVolume: "scratch", containerPath: "/scratch", readOnly: true }] }],
    ["a Docker-managed volume (no host path)", "EC2", { volumes: [{ name: "tmp" }], mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp/work" }] }],
    ["a volume name of 255 characters", "EC2", { volumes: [{ name: "v".repeat(255) }] }],
    ["EFS on Fargate, access point, IAM, encrypted, port 65535", "FARGATE", efs({ fileSystemId: FS, transitEncryption: "ENABLED", transitEncryptionPort: 65_535, authorizationConfig: { accessPointId: AP, iam: "ENABLED" } })],
    ["EFS with an access point and rootDirectory `/`", "EC2", efs({ fileSystemId: FS, rootDirectory: "/", transitEncryption: "ENABLED", authorizationConfig: { accessPointId: AP } })],
    ["EFS rootDirectory of 4,096 characters", "EC2", efs({ fileSystemId: FS, rootDirectory: `/${"d".repeat(4095)}` })],
    ["secrets from SSM and Secrets Manager (with a JSON key)", "FARGATE", { secrets: [{ name: "DB_PASSWORD", valueFrom: SSM }, { name: "API_KEY", valueFrom: `${SECRET}:key::` }] }],
    ["1 GPU on EC2", "EC2", { gpus: 1 }],
    ["21 GiB of ephemeral storage on Fargate", "FARGATE", { ephemeralStorageGiB: 21 }],
    ["200 GiB of ephemeral storage on Fargate", "FARGATE", { ephemeralStorageGiB: 200 }],
    ["shared memory and ulimits on EC2", "EC2", { sharedMemoryMiB: 1024, ulimits: [{ name: "nofile", softLimit: 65_536, hardLimit: 65_536 }] }],
    ["a uid:gid user", "FARGATE", { user: "1000:1000" }],
    ["a volume with only a name on Fargate (scratch space)", "FARGATE", { volumes: [{ name: "tmp" }], mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp" }] }],
    ["unlimited ulimits (-1)", "EC2", { ulimits: [{ name: "memlock", softLimit: -1, hardLimit: -1 }, { name: "nofile", softLimit: 1024, hardLimit: -1 }] }],
    ["a data path under /var that is not the runtime's", "EC2", { volumes: [{ name: "d", host: { sourcePath: "/var/data" } }] }],
    ["a hierarchical SSM parameter by ARN", "EC2", { secrets: [{ name: "DB", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/a/b/c" }] }],
  ])("%s", (_, platform, features) => {
    expect(rules(platform, features)).toEqual([]);
  });
});

describe("containerProblems: each rule at its edge, named by path", () => {
  it.each<[string, "EC2" | "FARGATE", ContainerFeatures, string]>([
    ["a volume name of 256 characters", "EC2", { volumes: [{ name: "v".repeat(256) }] }, "volumes[0].name: a volume name is 1 to 255 letters, digits, - or _"],
    ["a volume name with a dot", "EC2", { volumes: [{ name: "my.data" }] }, "volumes[0].name: a volume name is 1 to 255"],
    ["a volume defined twice", "EC2", { volumes: [{ name: "a" }, { name: "a" }] }, "volumes[1].name: volume `a` is defined twice"],
    ["a host volume on Fargate", "FARGATE", { volumes: [{ name: "scratch", host: { sourcePath: "/mnt" } }] }, "volumes[0].host: is not applicable to jobs on Fargate resources"],
    ["the Docker socket as a host volume", "EC2", { volumes: [{ name: "d", host: { sourcePath: "/var/run/docker.sock" } }] }, "volumes[0].host.sourcePath: is the instance's own `/var/run`"],
    ["the host's root", "EC2", { volumes: [{ name: "d", host: { sourcePath: "/" } }] }, "volumes[0].host.sourcePath: is the instance's own `/`"],
    ["a path that climbs back into /etc", "EC2", { volumes: [{ name: "d", host: { sourcePath: "/mnt/../etc" } }] }, "volumes[0].host.sourcePath: is the instance's own `/etc`"],
    ["the ECS agent's state", "EC2", { volumes: [{ name: "d", host: { sourcePath: "/var/lib/ecs/data" } }] }, "is the instance's own `/var/lib/ecs`"],
    ["a secret named AWS_REGION", "EC2", { secrets: [{ name: "AWS_REGION", valueFrom: SSM }] }, "secrets[0].name: `AWS_REGION` is set by the pipeline to the stack's region"],
    ["an SSM ARN with the name's leading slash", "EC2", { secrets: [{ name: "DB", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter//app/db" }] }, "secrets[0].valueFrom: must be the full ARN"],
    ["a Secrets Manager ARN without its six characters", "EC2", { secrets: [{ name: "DB", valueFrom: PARTIAL_SECRET }] }, "secrets[0].valueFrom: must be the full ARN of an SSM parameter (arn:aws:ssm:<region>:<account>:parameter/<name>, the name without its leading /) or the complete ARN of a Secrets Manager secret, with the six characters AWS appends"],
    ["a wildcard in a secret's JSON key", "EC2", { secrets: [{ name: "DB", valueFrom: `${SECRET}:*::` }] }, "secrets[0].valueFrom: must be the full ARN"],
    ["a relative host path", "EC2", { volumes: [{ name: "scratch", host: { sourcePath: "mnt" } }] }, "volumes[0].host.sourcePath: must be an absolute path"],
    ["host and EFS at once", "EC2", { volumes: [{ name: "x", host: {}, efsVolumeConfiguration: { fileSystemId: FS } }] }, "volumes[0]: a volume is either `host` or `efsVolumeConfiguration`, not both"],
    ["a bad file system id", "EC2", efs({ fileSystemId: "fs-xyz" }), "volumes[0].efsVolumeConfiguration.fileSystemId: must be an EFS file system id"],
    ["rootDirectory of 4,097 characters", "EC2", efs({ fileSystemId: FS, rootDirectory: `/${"d".repeat(4096)}` }), "volumes[0].efsVolumeConfiguration.rootDirectory: at most 4096 characters"],
    ["port 65,536", "EC2", efs({ fileSystemId: FS, transitEncryptionPort: 65_536 }), "volumes[0].efsVolumeConfiguration.transitEncryptionPort: must be a port from 0 to 65535"],
    ["an access point without transit encryption", "EC2", efs({ fileSystemId: FS, authorizationConfig: { accessPointId: AP } }), "volumes[0].efsVolumeConfiguration.transitEncryption: must be ENABLED when an access point is used"],
    ["an access point with another root directory", "EC2", efs({ fileSystemId: FS, rootDirectory: "/data", transitEncryption: "ENABLED", authorizationConfig: { accessPointId: AP } }), "volumes[0].efsVolumeConfiguration.rootDirectory: with an access point, omit rootDirectory or set it to `/`"],
    ["IAM authorization without transit encryption", "EC2", efs({ fileSystemId: FS, transitEncryption: "DISABLED", authorizationConfig: { iam: "ENABLED" } }), "volumes[0].efsVolumeConfiguration.transitEncryption: must be ENABLED when authorizationConfig.iam is ENABLED"],
    ["a mount of an undefined volume", "EC2", { volumes: [{ name: "data" }], mountPoints: [{ sourceVolume: "dta", containerPath: "/data" }] }, "mountPoints[0].sourceVolume: must name a volume of this definition (volumes: data)"],
    ["a relative container path", "EC2", { volumes: [{ name: "data" }], mountPoints: [{ sourceVolume: "data", containerPath: "data" }] }, "mountPoints[0].containerPath: must be an absolute path in the container"],
    ["one path mounted twice", "EC2", { volumes: [{ name: "a" }, { name: "b" }], mountPoints: [{ sourceVolume: "a", containerPath: "/d" }, { sourceVolume: "b", containerPath: "/d" }] }, "mountPoints[1].containerPath: `/d` is mounted twice"],
    ["a secret by parameter name, not ARN", "EC2", { secrets: [{ name: "DB", valueFrom: "/app/db-password" }] }, "secrets[0].valueFrom: must be the full ARN of an SSM parameter"],
    ["a secret from another service", "EC2", { secrets: [{ name: "DB", valueFrom: "arn:aws:s3:::bucket/key" }] }, "secrets[0].valueFrom: must be the full ARN"],
    ["a secret named like Batch's variables", "EC2", { secrets: [{ name: "AWS_BATCH_X", valueFrom: SSM }] }, "secrets[0].name: names starting with `AWS_BATCH` are set by Batch or the pipeline"],
    ["a secret also in environment", "EC2", { environment: { DB: "x" }, secrets: [{ name: "DB", valueFrom: SSM }] }, "secrets[0].name: `DB` is also in environment"],
    ["a secret listed twice", "EC2", { secrets: [{ name: "DB", valueFrom: SSM }, { name: "DB", valueFrom: SECRET }] }, "secrets[1].name: `DB` is listed twice"],
    ["a GPU on Fargate", "FARGATE", { gpus: 1 }, "gpus: GPU is not applicable to jobs on Fargate resources"],
    ["0 GPUs", "EC2", { gpus: 0 }, "gpus: must be a whole number of at least 1"],
    ["20 GiB of ephemeral storage", "FARGATE", { ephemeralStorageGiB: 20 }, "ephemeralStorageGiB: Batch accepts 21 to 200 GiB"],
    ["201 GiB of ephemeral storage", "FARGATE", { ephemeralStorageGiB: 201 }, "ephemeralStorageGiB: Batch accepts 21 to 200 GiB"],
    ["ephemeral storage on EC2", "EC2", { ephemeralStorageGiB: 50 }, "ephemeralStorageGiB: applies to Fargate only"],
    ["shared memory on Fargate", "FARGATE", { sharedMemoryMiB: 64 }, "sharedMemoryMiB: LinuxParameters.sharedMemorySize is not applicable to jobs on Fargate resources"],
    ["0 MiB of shared memory", "EC2", { sharedMemoryMiB: 0 }, "sharedMemoryMiB: must be a whole number of MiB, at least 1"],
    ["ulimits on Fargate", "FARGATE", { ulimits: [{ name: "nofile", softLimit: 1, hardLimit: 1 }] }, "ulimits: ulimits is not applicable to jobs on Fargate resources"],
    ["an unknown ulimit", "EC2", { ulimits: [{ name: "files", softLimit: 1, hardLimit: 1 }] }, "ulimits[0].name: must be one of core, cpu"],
    ["a soft limit over the hard one", "EC2", { ulimits: [{ name: "nofile", softLimit: 2, hardLimit: 1 }] }, "ulimits[0].softLimit: cannot exceed hardLimit (1)"],
    ["an unlimited soft limit over a finite hard one", "EC2", { ulimits: [{ name: "nofile", softLimit: -1, hardLimit: 1 }] }, "ulimits[0].softLimit: cannot exceed hardLimit (1)"],
    ["a limit below -1", "EC2", { ulimits: [{ name: "nofile", softLimit: -2, hardLimit: 1 }] }, "ulimits[0].softLimit: must be a whole number, or -1 for unlimited"],
    ["a user with a space", "EC2", { user: "app user" }, "user: must be a user name or uid"],
  ])("%s", (_, platform, features, expected) => {
    const found = rules(platform, features);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(expected);
  });
});

describe("environmentProblems: names Batch or the pipeline sets (ContainerProperties.environment: \"cannot start with AWS_BATCH\")", () => {
  it.each([
    ["AWS_BATCH_JOB_ID", "names starting with `AWS_BATCH` are set by Batch or the pipeline"],
    ["PIPELINE_OUTPUT_PREFIX", "names starting with `PIPELINE_` are set by Batch or the pipeline"],
    ["aws_region", "`aws_region` is set by the pipeline to the stack's region"],
  ])("refuses %s", (name, rule) => {
    expect(environmentProblems({ [name]: "x" })).toEqual([{ path: ["environment", name], rule }]);
  });
  it("takes any other name, AWS_-prefixed ones included", () => {
    expect(environmentProblems({ AWS_MAX_ATTEMPTS: "5", LOG_LEVEL: "info", PIPELINE: "x" })).toEqual([]);
  });
});

describe("secretSource: what the execution role is granted", () => {
  it("an SSM parameter ARN as it is; a Secrets Manager ARN without its JSON key, stage and version", () => {
    expect(secretSource(SSM)).toEqual({ service: "ssm", arn: SSM });
    expect(secretSource(`${SECRET}:password:AWSCURRENT:`)).toEqual({ service: "secretsmanager", arn: SECRET });
    expect(secretSource("app/db-password")).toBeUndefined();
    // Secrets Manager reads a name ending in `-` and six characters as a complete ARN: a partial ARN could name no secret.
    expect(secretSource(PARTIAL_SECRET)).toBeUndefined();
  });
});
