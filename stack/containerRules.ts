/**
 * Batch's rules on what a container job definition carries besides its image and size: volumes and mount
 * points, secrets, GPUs, ephemeral storage, shared memory, ulimits, the user. Pure: the job definition
 * component checks its args with {@link containerProblems} before creating anything, and the stack config
 * (stack/config/) reports the same problems at their key paths, at `pulumi preview` and in
 * `batch-pipeline validate`. Each rule cites the Batch API reference page it comes from (ContainerProperties
 * and the types it holds: Volume, Host, EFSVolumeConfiguration, EFSAuthorizationConfig, MountPoint, Secret,
 * LinuxParameters, Ulimit, EphemeralStorage, ResourceRequirement).
 */
import type { MountPoint, Secret, Ulimit, Volume } from "@aws-sdk/client-batch";
import type { Platform } from "./batchRules";
import { ENV_NAME, RESERVED_ENV_PREFIXES } from "../workflow/spec";

/** A rule broken, at a path relative to the job definition (`["volumes", 0, "name"]`). */
export interface ContainerProblem {
  readonly path: readonly (string | number)[];
  readonly rule: string;
}

/** What {@link containerProblems} reads: the container fields the stack config and the component take. */
export interface ContainerFeatures {
  readonly environment?: Readonly<Record<string, unknown>>;
  /** Host paths (EC2), name-only scratch volumes and EFS file systems; no host paths on Fargate. @default none */
  readonly volumes?: readonly Volume[];
  /** Where `volumes` appear in the container. @default none */
  readonly mountPoints?: readonly MountPoint[];
  /**
   * Environment variables from SSM parameters or Secrets Manager secrets, by full ARN. The execution role
   * (one is created when `executionRoleArn` is not given) may read exactly these. @default none
   */
  readonly secrets?: readonly Secret[];
  /** EC2 only. @default none */
  readonly gpus?: number;
  /** Fargate only, 21 to 200. @default Fargate's 20 GiB */
  readonly ephemeralStorageGiB?: number;
  /** EC2 only: /dev/shm in MiB. @default Docker's */
  readonly sharedMemoryMiB?: number;
  /** EC2 only. @default the instance's */
  readonly ulimits?: readonly Ulimit[];
  /** The user the container runs as. @default the image's */
  readonly user?: string;
}

/** Volume: "up to 255 characters long … uppercase and lowercase letters, numbers, hyphens (-), and underscores (_)". */
export const VOLUME_NAME = /^[A-Za-z0-9_-]{1,255}$/;
/** EphemeralStorage.sizeInGiB: "The minimum supported value is 21 GiB and the maximum supported value is 200 GiB" (Fargate only). */
export const EPHEMERAL_STORAGE_GIB = { min: 21, max: 200 } as const;
/** EFSVolumeConfiguration.rootDirectory: "The maximum length is 4,096 characters." */
export const EFS_ROOT_DIRECTORY_MAX_CHARS = 4096;
/** EFSVolumeConfiguration.transitEncryptionPort: "between 0 and 65,535". */
export const TRANSIT_ENCRYPTION_PORT = { min: 0, max: 65_535 } as const;
/** Ulimit.name: "Valid values are: core | cpu | data | fsize | locks | memlock | msgqueue | nice | nofile | nproc | rss | rtprio | rttime | sigpending | stack". */
export const ULIMIT_NAMES = [
  "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack",
] as const;
/** An EFS file system id (`fs-` and hex), and an access point id (`fsap-` and hex). */
const FILE_SYSTEM_ID = /^fs-[0-9a-f]{8,40}$/;
const ACCESS_POINT_ID = /^fsap-[0-9a-f]{8,40}$/;
/**
 * ContainerProperties.environment: "Environment variables cannot start with AWS_BATCH. This naming
 * convention is reserved for variables that Batch sets." The pipeline owns `PIPELINE_` (the planner's and
 * the stack's variables): both prefixes are workflow/spec.ts' `RESERVED_ENV_PREFIXES`, which steps keep too.
 * It also sets `AWS_REGION` and `AWS_DEFAULT_REGION` on every container.
 */
export const RESERVED_ENV_NAMES = ["AWS_REGION", "AWS_DEFAULT_REGION"] as const;

/** Why Batch or the pipeline owns environment variable `name`, or undefined when a job may set it. */
export function reservedEnvProblem(name: string): string | undefined {
  const prefix = RESERVED_ENV_PREFIXES.find((p) => name.toUpperCase().startsWith(p));
  if (prefix) return `names starting with \`${prefix}\` are set by Batch or the pipeline`;
  if ((RESERVED_ENV_NAMES as readonly string[]).includes(name.toUpperCase())) return `\`${name}\` is set by the pipeline to the stack's region`;
  return undefined;
}

/**
 * An SSM Parameter Store parameter ARN: `arn:<partition>:ssm:<region>:<account>:parameter/<name>`. A
 * hierarchical name `/app/db` is `parameter/app/db` (one slash); names hold letters, digits and `_ . - /`,
 * at most 1,011 characters (PutParameter: 2,048 less the 1,037 "reserved for internal use").
 */
const SSM_PARAMETER_ARN = /^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/(?!\/)[A-Za-z0-9_.\-/]{1,1011}$/;
/**
 * A complete Secrets Manager secret ARN (the name and the six characters AWS appends, `name-AbCdEf`),
 * optionally with the JSON key, version stage and version id Batch accepts after it ("Specifying sensitive
 * data with Secrets Manager": `arn:…:secret:name-AbCdEf:json-key:version-stage:version-id`). A partial ARN
 * is refused: Secrets Manager reads a name ending in `-` and six characters as a complete ARN, so a
 * partial one can silently name no secret, and the grant must name exactly the secret read.
 */
const SECRET_ARN = /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6})(?::[^:*?]*:[^:*?]*:[^:*?]*)?$/;

/**
 * A private ECR image: `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>`, the FIPS form
 * (`dkr.ecr-fips`) and the dual-stack form (`<account>.dkr-ecr.<region>.on.aws`), by tag or digest.
 */
export const PRIVATE_ECR_IMAGE =
  /^(\d{12})\.dkr[.-]ecr(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|on\.aws)\/([a-z0-9._\/-]+?)(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/;

/** What a secret's `valueFrom` names: the resource to grant and the action that reads it. */
export interface SecretSource {
  readonly service: "ssm" | "secretsmanager";
  /** The ARN IAM evaluates: the parameter, or the secret (its JSON key and version cut off). */
  readonly arn: string;
}

/** The parameter or secret a `valueFrom` names, or undefined when it is neither ARN. */
export function secretSource(valueFrom: string): SecretSource | undefined {
  if (SSM_PARAMETER_ARN.test(valueFrom)) return { service: "ssm", arn: valueFrom };
  const secret = SECRET_ARN.exec(valueFrom);
  return secret ? { service: "secretsmanager", arn: secret[1]! } : undefined;
}

const fargate = (platform: Platform) => platform === "FARGATE";
const notOnFargate = (what: string) => `${what} is not applicable to jobs on Fargate resources (Batch API reference); use an EC2 process queue`;

/**
 * The instance's system paths a host volume must not expose: the Docker socket (`/var/run`, `/run`), the
 * container runtime's and ECS agent's state (`/var/lib/docker`, `/var/lib/ecs`), kernel interfaces, the
 * system's configuration and home directories, and `/` itself, which holds them all.
 */
export const SYSTEM_HOST_PATHS = [
  "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/var/run", "/var/lib/docker", "/var/lib/ecs", "/var/lib/containerd",
] as const;

/** The system path `path` is or lies under (after `.`, `..` and repeated `/` are resolved), or undefined. */
export function systemHostPath(path: string): string | undefined {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  const normal = `/${parts.join("/")}`;
  if (normal === "/") return "/";
  return SYSTEM_HOST_PATHS.find((p) => normal === p || normal.startsWith(`${p}/`));
}

/** Volumes: unique valid names; host paths and Docker volumes on EC2 only; EFS's own rules. */
function volumeProblems(platform: Platform, volumes: readonly Volume[]): ContainerProblem[] {
  const problems: ContainerProblem[] = [];
  const seen = new Set<string>();
  volumes.forEach((v, i) => {
    const at = ["volumes", i];
    if (v.name === undefined || !VOLUME_NAME.test(v.name)) {
      problems.push({ path: [...at, "name"], rule: "a volume name is 1 to 255 letters, digits, - or _ (Batch API reference, Volume)" });
    } else if (seen.has(v.name)) {
      problems.push({ path: [...at, "name"], rule: `volume \`${v.name}\` is defined twice` });
    } else seen.add(v.name);
    const efs = v.efsVolumeConfiguration;
    if (v.host !== undefined && efs !== undefined) problems.push({ path: at, rule: "a volume is either `host` or `efsVolumeConfiguration`, not both" });
    if (fargate(platform) && v.host !== undefined) {
      problems.push({ path: [...at, "host"], rule: "is not applicable to jobs on Fargate resources (Batch API reference, Volume): use an EFS volume, or a volume with only a name for scratch space" });
    }
    const hostPath = v.host?.sourcePath;
    if (hostPath !== undefined && !hostPath.startsWith("/")) {
      problems.push({ path: [...at, "host", "sourcePath"], rule: "must be an absolute path on the instance" });
    } else if (hostPath !== undefined && systemHostPath(hostPath)) {
      problems.push({ path: [...at, "host", "sourcePath"], rule: `is the instance's own \`${systemHostPath(hostPath)}\`: a job given it could control the host and every other job on it (the Docker socket, the ECS agent's state, credentials); use a data path such as /mnt/scratch` });
    }
    if (efs) problems.push(...efsProblems(efs).map((p) => ({ path: [...at, "efsVolumeConfiguration", ...p.path], rule: p.rule })));
  });
  return problems;
}

/** EFSVolumeConfiguration and EFSAuthorizationConfig (Batch API reference). */
function efsProblems(efs: NonNullable<Volume["efsVolumeConfiguration"]>): ContainerProblem[] {
  const problems: ContainerProblem[] = [];
  const encrypted = efs.transitEncryption === "ENABLED";
  if (efs.fileSystemId === undefined || !FILE_SYSTEM_ID.test(efs.fileSystemId)) problems.push({ path: ["fileSystemId"], rule: "must be an EFS file system id like fs-0123456789abcdef0" });
  if (efs.rootDirectory !== undefined && efs.rootDirectory.length > EFS_ROOT_DIRECTORY_MAX_CHARS) {
    problems.push({ path: ["rootDirectory"], rule: `at most ${EFS_ROOT_DIRECTORY_MAX_CHARS} characters` });
  }
  const port = efs.transitEncryptionPort;
  if (port !== undefined && !(Number.isInteger(port) && port >= TRANSIT_ENCRYPTION_PORT.min && port <= TRANSIT_ENCRYPTION_PORT.max)) {
    problems.push({ path: ["transitEncryptionPort"], rule: `must be a port from ${TRANSIT_ENCRYPTION_PORT.min} to ${TRANSIT_ENCRYPTION_PORT.max}` });
  }
  const auth = efs.authorizationConfig;
  if (auth?.accessPointId !== undefined) {
    if (!ACCESS_POINT_ID.test(auth.accessPointId)) problems.push({ path: ["authorizationConfig", "accessPointId"], rule: "must be an EFS access point id like fsap-0123456789abcdef0" });
    if (efs.rootDirectory !== undefined && efs.rootDirectory !== "/") {
      problems.push({ path: ["rootDirectory"], rule: "with an access point, omit rootDirectory or set it to `/`: the access point's path applies (EFSAuthorizationConfig)" });
    }
    if (!encrypted) problems.push({ path: ["transitEncryption"], rule: "must be ENABLED when an access point is used (EFSAuthorizationConfig)" });
  }
  if (auth?.iam === "ENABLED" && !encrypted) {
    problems.push({ path: ["transitEncryption"], rule: "must be ENABLED when authorizationConfig.iam is ENABLED (EFS IAM authorization requires transit encryption)" });
  }
  return problems;
}

/** MountPoint: each names a defined volume, at an absolute container path, once. */
function mountPointProblems(mountPoints: readonly MountPoint[], volumes: readonly Volume[]): ContainerProblem[] {
  const names = new Set(volumes.map((v) => v.name));
  const paths = new Set<string>();
  return mountPoints.flatMap((m, i): ContainerProblem[] => {
    const problems: ContainerProblem[] = [];
    if (m.sourceVolume === undefined || !names.has(m.sourceVolume)) {
      problems.push({ path: ["mountPoints", i, "sourceVolume"], rule: `must name a volume of this definition (volumes: ${[...names].join(", ") || "none"})` });
    }
    if (m.containerPath === undefined || !m.containerPath.startsWith("/")) {
      problems.push({ path: ["mountPoints", i, "containerPath"], rule: "must be an absolute path in the container" });
    } else if (paths.has(m.containerPath)) {
      problems.push({ path: ["mountPoints", i, "containerPath"], rule: `\`${m.containerPath}\` is mounted twice` });
    } else paths.add(m.containerPath);
    return problems;
  });
}

/** Secret: an environment name the container does not already have, from a full SSM parameter or Secrets Manager ARN. */
function secretProblems(secrets: readonly Secret[], environment: Readonly<Record<string, unknown>>): ContainerProblem[] {
  const seen = new Set<string>();
  return secrets.flatMap((s, i): ContainerProblem[] => {
    const problems: ContainerProblem[] = [];
    const name = s.name ?? "";
    const reserved = reservedEnvProblem(name);
    if (!ENV_NAME.test(name)) problems.push({ path: ["secrets", i, "name"], rule: "must be an environment variable name (letters, digits, _; not starting with a digit)" });
    else if (reserved) problems.push({ path: ["secrets", i, "name"], rule: reserved });
    else if (Object.hasOwn(environment, name)) problems.push({ path: ["secrets", i, "name"], rule: `\`${name}\` is also in environment; a variable comes from one of them` });
    else if (seen.has(name)) problems.push({ path: ["secrets", i, "name"], rule: `\`${name}\` is listed twice` });
    seen.add(name);
    if (secretSource(s.valueFrom ?? "") === undefined) {
      problems.push({
        path: ["secrets", i, "valueFrom"],
        rule: "must be the full ARN of an SSM parameter (arn:aws:ssm:<region>:<account>:parameter/<name>, the name without its leading /) or the complete ARN of a Secrets Manager secret, with the six characters AWS appends (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf[:json-key:version-stage:version-id]); the execution role is granted exactly that resource",
      });
    }
    return problems;
  });
}

/** Ulimit: a known name, whole non-negative limits, soft at most hard, each name once; EC2 only. */
function ulimitProblems(ulimits: readonly Ulimit[]): ContainerProblem[] {
  const seen = new Set<string>();
  return ulimits.flatMap((u, i): ContainerProblem[] => {
    const problems: ContainerProblem[] = [];
    if (!(ULIMIT_NAMES as readonly (string | undefined)[]).includes(u.name)) problems.push({ path: ["ulimits", i, "name"], rule: `must be one of ${ULIMIT_NAMES.join(", ")}` });
    else if (seen.has(u.name!)) problems.push({ path: ["ulimits", i, "name"], rule: `\`${u.name}\` is set twice` });
    else seen.add(u.name!);
    for (const key of ["softLimit", "hardLimit"] as const) {
      const value = u[key];
      if (!(Number.isInteger(value) && value! >= -1)) problems.push({ path: ["ulimits", i, key], rule: "must be a whole number, or -1 for unlimited" });
    }
    // -1 is unlimited (as Docker and ECS read it): a soft limit never exceeds it.
    const limit = (n: number) => (n === -1 ? Infinity : n);
    if (Number.isInteger(u.softLimit) && Number.isInteger(u.hardLimit) && limit(u.softLimit!) > limit(u.hardLimit!)) {
      problems.push({ path: ["ulimits", i, "softLimit"], rule: `cannot exceed hardLimit (${u.hardLimit})` });
    }
    return problems;
  });
}

/**
 * What a config's `environment` may not name ({@link reservedEnvProblem}); the component does not check it,
 * since the pipeline itself adds `PIPELINE_OUTPUT_BUCKET` to the environment it hands the component.
 */
export function environmentProblems(environment: Readonly<Record<string, unknown>>): ContainerProblem[] {
  return Object.keys(environment).flatMap((name) => {
    const reserved = reservedEnvProblem(name);
    return reserved ? [{ path: ["environment", name], rule: reserved }] : [];
  });
}

/** Every container rule `features` breaks on `platform`, in field order. */
export function containerProblems(platform: Platform, features: ContainerFeatures): ContainerProblem[] {
  const f = features;
  const problems: ContainerProblem[] = [];
  const volumes = f.volumes ?? [];
  problems.push(...volumeProblems(platform, volumes), ...mountPointProblems(f.mountPoints ?? [], volumes));
  problems.push(...secretProblems(f.secrets ?? [], f.environment ?? {}));
  if (f.gpus !== undefined) {
    // ResourceRequirement: "GPUs aren't available for jobs that are running on Fargate resources."
    if (fargate(platform)) problems.push({ path: ["gpus"], rule: notOnFargate("GPU") });
    else if (!(Number.isInteger(f.gpus) && f.gpus >= 1)) problems.push({ path: ["gpus"], rule: "must be a whole number of at least 1" });
  }
  if (f.ephemeralStorageGiB !== undefined) {
    const { min, max } = EPHEMERAL_STORAGE_GIB;
    if (!fargate(platform)) problems.push({ path: ["ephemeralStorageGiB"], rule: "applies to Fargate only (EphemeralStorage): on EC2 the instance's volume is the limit; remove it, or run process jobs on Fargate (processQueue: fargate)" });
    else if (!(Number.isInteger(f.ephemeralStorageGiB) && f.ephemeralStorageGiB >= min && f.ephemeralStorageGiB <= max)) {
      problems.push({ path: ["ephemeralStorageGiB"], rule: `Batch accepts ${min} to ${max} GiB (EphemeralStorage.sizeInGiB)` });
    }
  }
  if (f.sharedMemoryMiB !== undefined) {
    if (fargate(platform)) problems.push({ path: ["sharedMemoryMiB"], rule: notOnFargate("LinuxParameters.sharedMemorySize") });
    else if (!(Number.isInteger(f.sharedMemoryMiB) && f.sharedMemoryMiB >= 1)) problems.push({ path: ["sharedMemoryMiB"], rule: "must be a whole number of MiB, at least 1" });
  }
  if (f.ulimits !== undefined && f.ulimits.length > 0) {
    if (fargate(platform)) problems.push({ path: ["ulimits"], rule: notOnFargate("ulimits") });
    else problems.push(...ulimitProblems(f.ulimits));
  }
  if (f.user !== undefined && !/^[A-Za-z0-9_.-]{1,255}(:[A-Za-z0-9_.-]{1,255})?$/.test(f.user)) {
    problems.push({ path: ["user"], rule: "must be a user name or uid, optionally `:group` or `:gid` (docker run --user)" });
  }
  return problems;
}

/** A problem's path as one key (`volumes[0].efsVolumeConfiguration.transitEncryption`), for component errors. */
export function problemField(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}
