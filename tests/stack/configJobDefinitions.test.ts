/**
 * `jobDefinitions.<key>` at `pulumi preview` (and `batch-pipeline validate`): a bad value of each new field
 * fails with one line naming the key, the value and the rule; what Batch accepts passes. The rules
 * themselves are edge-tested in containerRules.test.ts, retry rules here (EvaluateOnExit and RetryStrategy,
 * Batch API reference: at most 5 rules; onExitCode "can contain only numbers, and can end with an asterisk").
 */
import { describe, expect, it } from "vitest";
import { parsePipelineConfig } from "../../stack/config";
import { errorOf, NS } from "./configErrors";

const IMAGE = "public.ecr.aws/docker/library/busybox:1.37";
const job = (fields: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({ jobDefinitions: { process: { image: IMAGE, ...fields } }, ...rest });
const FARGATE = { compute: { fargate: { enabled: true } }, processQueue: "fargate" };
const line = (key: string, value: string, rule: string) => `${NS}:jobDefinitions.process.${key} = ${value}: ${rule}`;

describe("jobDefinitions: one message naming the key, the value and the rule", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ["an image with no tag (Docker pulls :latest)", { jobDefinitions: { process: { image: "busybox" } } }, line("image", '"busybox"', "pin a tag or digest")],
    ["an image whose only colon is the registry's port", { jobDefinitions: { process: { image: "registry:5000/busybox" } } }, line("image", '"registry:5000/busybox"', "pin a tag or digest")],
    ["neither image nor build", { jobDefinitions: { process: {} } }, line("image", "(unset)", "set exactly one of `image` (a pinned image) and `build`")],
    ["both image and build", job({ build: { context: "examples/x" } }), line("build", '{"context":"examples/x"}', "set exactly one of `image`")],
    ["a build folder outside the project", { jobDefinitions: { process: { build: { context: "../elsewhere" } } } }, line("build.context", '"../elsewhere"', "must be a folder inside the project")],
    ["a GPU on Fargate", job({ gpus: 1, vcpus: 1, memoryMiB: 2048 }, FARGATE), line("gpus", "1", "GPU is not applicable to jobs on Fargate resources")],
    ["ephemeral storage on EC2", job({ ephemeralStorageGiB: 50 }), line("ephemeralStorageGiB", "50", "applies to Fargate only")],
    ["ephemeral storage past 200 GiB", job({ ephemeralStorageGiB: 201, vcpus: 1, memoryMiB: 2048 }, FARGATE), line("ephemeralStorageGiB", "201", "Batch accepts 21 to 200 GiB")],
    ["a host volume on Fargate", job({ vcpus: 1, memoryMiB: 2048, volumes: [{ name: "v", host: { sourcePath: "/mnt" } }] }, FARGATE), line("volumes[0].host", '{"sourcePath":"/mnt"}', "is not applicable to jobs on Fargate resources")],
    ["the Docker socket as a host volume", job({ volumes: [{ name: "v", host: { sourcePath: "/var/run/docker.sock" } }] }), line("volumes[0].host.sourcePath", '"/var/run/docker.sock"', "is the instance's own `/var/run`")],
    ["a GPU with no GPU instance types", job({ gpus: 1 }), `${NS}:compute.spot.instanceTypes = (unset): list no GPU instance types (p3, p4d, g5, …), nor do compute.onDemand.instanceTypes, but jobDefinitions.process asks for GPUs`],
    ["a reserved environment variable", job({ environment: { AWS_BATCH_X: "1" } }), line("environment.AWS_BATCH_X", '"1"', "names starting with `AWS_BATCH` are set by Batch")],
    ["an image that reads as a docker option", { jobDefinitions: { process: { image: "--volume=/:/host:rw" } } }, line("image", '"--volume=/:/host:rw"', "an image reference is up to 255 letters")],
    ["a Dockerfile outside the build folder", { jobDefinitions: { process: { build: { context: "examples/x", dockerfile: "../Dockerfile" } } } }, line("build.dockerfile", '"../Dockerfile"', "must be a file inside build.context")],
    ["an action that runs code as another role", job({ policyStatements: [{ Action: ["batch:SubmitJob"], Resource: ["*"] }] }), line("policyStatements[0].Action[0]", '"batch:SubmitJob"', "is not granted to jobs: it runs code or changes access as another principal")],
    ["an action that rewrites the bucket's policy", job({ policyStatements: [{ Action: ["s3:PutBucketPolicy"], Resource: ["*"] }] }), line("policyStatements[0].Action[0]", '"s3:PutBucketPolicy"', "is not granted to jobs")],
    ["the trigger's code", job({ policyStatements: [{ Action: ["lambda:UpdateFunctionCode"], Resource: ["*"] }] }), line("policyStatements[0].Action[0]", '"lambda:UpdateFunctionCode"', "is not granted to jobs")],
    ["a mount of no volume", job({ mountPoints: [{ sourceVolume: "v", containerPath: "/v" }] }), line("mountPoints[0].sourceVolume", '"v"', "must name a volume of this definition (volumes: none)")],
    ["an unknown EFS field (Batch's shape is strict)", job({ volumes: [{ name: "v", efsVolumeConfiguration: { fileSystemId: "fs-0123456789abcdef0", encrypted: true } }] }), "jobDefinitions.process.volumes[0].efsVolumeConfiguration"],
    ["a secret by name", job({ secrets: [{ name: "DB", valueFrom: "db-password" }] }), line("secrets[0].valueFrom", '"db-password"', "must be the full ARN of an SSM parameter")],
    ["shared memory on Fargate", job({ sharedMemoryMiB: 64, vcpus: 1, memoryMiB: 2048 }, FARGATE), line("sharedMemoryMiB", "64", "LinuxParameters.sharedMemorySize is not applicable")],
    ["a soft ulimit over the hard one", job({ ulimits: [{ name: "nofile", softLimit: 2, hardLimit: 1 }] }), line("ulimits[0].softLimit", "2", "cannot exceed hardLimit (1)")],
    ["three retryOn patterns", job({ retryOn: { exitCodes: [75, 76, 77] } }), line("retryOn", '{"exitCodes":[75,76,77]}', "at most 2 exit codes and status reasons together")],
    ["an exit code that is not digits", job({ retryOn: { exitCodes: ["7x"] } }), line("retryOn.exitCodes[0]", '"7x"', "an exit code is digits, optionally ending with `*`")],
    ["a status reason with a wildcard inside", job({ retryOn: { statusReasons: ["Host*EC2"] } }), line("retryOn.statusReasons[0]", '"Host*EC2"', "1 to 512 letters, digits, periods, colons, spaces and tabs, optionally ending with `*`")],
    ["a status reason that is only `*` (retry everything)", job({ retryOn: { statusReasons: ["*"] } }), "retryOn.statusReasons[0] = \"*\": 1 to 512 letters, digits, periods, colons, spaces and tabs, optionally ending with `*` after at least one of them (EvaluateOnExit.onStatusReason; a bare `*` would retry every failure)"],
    ["retryOn with one attempt", job({ retryAttempts: 1, retryOn: { exitCodes: [75] } }), line("retryAttempts", "1", "must be at least 2 for retryOn to retry anything")],
    ["a wildcard action", job({ policyStatements: [{ Action: ["s3:Get*"], Resource: ["*"] }] }), line("policyStatements[0].Action[0]", '"s3:Get*"', "must be one action spelt out")],
    ["an IAM action", job({ policyStatements: [{ Action: ["iam:PassRole"], Resource: ["*"] }] }), line("policyStatements[0].Action[0]", '"iam:PassRole"', "iam, sts, organizations, sso, identitystore, account, ec2-instance-connect actions are not granted to jobs")],
    ["an STS action", job({ policyStatements: [{ Action: ["sts:AssumeRole"], Resource: ["*"] }] }), line("policyStatements[0].Action[0]", '"sts:AssumeRole"', "iam, sts, organizations, sso, identitystore, account, ec2-instance-connect actions are not granted to jobs: a job that can change identities or assume roles can grant itself anything")],
    ["a step's fractional vCPUs on EC2", job({}, { workflow: { steps: [{ name: "a", jobDefinition: "process", vcpus: 0.5 }] } }), `${NS}:workflow: workflow step \`a\`: vcpus 0.5: EC2 jobs take whole vCPUs`],
    ["a step's GPUs on Fargate", job({ vcpus: 1, memoryMiB: 2048 }, { ...FARGATE, workflow: { steps: [{ name: "a", jobDefinition: "process", gpus: 1 }] } }), "workflow step `a`: gpus 1: GPUs are not available to jobs on Fargate resources"],
    ["a step's memory outside Fargate's table", job({ vcpus: 1, memoryMiB: 2048 }, { ...FARGATE, workflow: { steps: [{ name: "a", jobDefinition: "process", memoryMiB: 1024 }] } }), "workflow step `a`: memoryMiB 1024: Fargate with 1 vCPU accepts 2048 to 8192 MiB"],
  ])("%s", (_, raw, expected) => {
    const message = errorOf(raw);
    expect(message).toContain(expected);
    expect(message.split("\n").filter((l) => l.startsWith("  - "))).toHaveLength(1);
  });
});

describe("jobDefinitions: what Batch accepts passes", () => {
  it("every field at once on EC2, and the Fargate-only ones on Fargate", () => {
    const full = {
      command: ["node", "stats.mjs", "Ref::mode"],
      parameters: { mode: "fast" },
      gpus: 1,
      secrets: [{ name: "DB_PASSWORD", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/app/db" }],
      volumes: [{ name: "scratch", host: { sourcePath: "/mnt/scratch" } }, { name: "shared", efsVolumeConfiguration: { fileSystemId: "fs-0123456789abcdef0", transitEncryption: "ENABLED", authorizationConfig: { iam: "ENABLED" } } }],
      mountPoints: [{ sourceVolume: "scratch", containerPath: "/scratch" }, { sourceVolume: "shared", containerPath: "/shared", readOnly: true }],
      sharedMemoryMiB: 1024,
      ulimits: [{ name: "nofile", softLimit: 65_536, hardLimit: 65_536 }],
      user: "1000:1000",
      readonlyRootFilesystem: true,
      retryAttempts: 3,
      retryOn: { exitCodes: [75], statusReasons: ["Task failed to start*"] },
      policyStatements: [{ Action: ["dynamodb:PutItem"], Resource: ["arn:aws:dynamodb:eu-west-1:123456789012:table/results"] }],
    };
    const gpuCompute = { compute: { spot: { instanceTypes: ["g5", "g6"] }, onDemand: { instanceTypes: ["g5"] } } };
    expect(parsePipelineConfig(job(full, gpuCompute), NS).jobDefinitions.process).toMatchObject(full);
    expect(() => parsePipelineConfig(job({ vcpus: 1, memoryMiB: 2048, ephemeralStorageGiB: 21 }, FARGATE), NS)).not.toThrow();
    expect(() => parsePipelineConfig({ jobDefinitions: { process: { build: { context: "examples/csv-stats" }, command: ["node", "stats.mjs"] } } }, NS)).not.toThrow();
  });

  it("two retryOn patterns fill Batch's five rules exactly", () => {
    expect(() => parsePipelineConfig(job({ retryOn: { exitCodes: [75, "1*"] } }), NS)).not.toThrow();
  });

  it("a digest pins an image; so does a tag after a registry port", () => {
    expect(() => parsePipelineConfig({ jobDefinitions: { process: { image: `busybox@sha256:${"a".repeat(64)}` } } }, NS)).not.toThrow();
    expect(() => parsePipelineConfig({ jobDefinitions: { process: { image: "registry:5000/busybox:1.37" } } }, NS)).not.toThrow();
  });
});

describe("Ref:: placeholders: every one has a value (Batch leaves an unfilled one as literal text)", () => {
  const steps = (...s: object[]) => ({ workflow: { steps: s } });
  it.each<[string, Record<string, unknown>, string]>([
    ["a typo in a definition's command that a step runs", job({ command: ["python3", "count.py", "Ref::mdoe"], parameters: { mode: "fast" } }), "workflow step `prepare`: jobDefinitions.process.command, which it runs, holds Ref::mdoe, which nothing fills"],
    ["a typo in a step's command", job({}, steps({ name: "a", jobDefinition: "process", command: ["echo", "Ref::kye"] })), "workflow step `a`: its command holds Ref::kye, which nothing fills (the pipeline's are Ref::runId, Ref::bucket, Ref::key"],
    ["a definition no step runs", { jobDefinitions: { process: { image: IMAGE }, spare: { image: IMAGE, command: ["echo", "Ref::etag"] } } }, `${NS}:jobDefinitions.spare.command = ["echo","Ref::etag"]: holds Ref::etag, which nothing fills`],
    ["a default parameter the pipeline always sets", job({ parameters: { key: "x" } }), `${NS}:jobDefinitions.process.parameters.key = "x": is a parameter the pipeline sets on every task`],
  ])("%s", (_, raw, expected) => {
    expect(errorOf(raw)).toContain(expected);
  });

  it("passes the pipeline's placeholders, the definition's and the step's, and a longer name built on a shorter one", () => {
    const raw = job(
      { command: ["node", "job.mjs", "Ref::key", "Ref::outputPrefix", "Ref::chunkBytes", "Ref::mode"], parameters: { mode: "fast" } },
      steps({ name: "a", jobDefinition: "process", command: ["echo", "Ref::level", "Ref::runId"], parameters: { level: "3" } }, { name: "b", jobDefinition: "process", dependsOn: ["a"] }),
    );
    expect(() => parsePipelineConfig(raw, NS)).not.toThrow();
  });
});
