/**
 * Shapes and defaults of a process job definition (`jobDefinitions.<key>`): the container a step runs,
 * in Batch's own field names and shapes (`volumes`, `mountPoints`, `secrets`, `ulimits` are the Batch
 * API's, typed against `@aws-sdk/client-batch`), plus the pipeline's own keys: `build`, `retryOn` and
 * `policyStatements`. Rules that depend on where the job runs (EC2 or Fargate) are config rules
 * (rules.ts `jobDefinitionContainersRule`), which call stack/containerRules.ts like the component does.
 */
import { EFSAuthorizationConfigIAM, EFSTransitEncryption, type MountPoint, type Secret, type Ulimit, type Volume } from "@aws-sdk/client-batch";
import { z } from "zod";
import { retryAttemptsProblem } from "../batchRules";
import { ENV_NAME } from "../../workflow/spec";

/**
 * Image references: pinned to a tag or a digest, never `:latest` or no tag at all (which Docker reads as
 * `:latest`): an unpinned image makes runs unreproducible. The tag is what follows the last `:` after the
 * last `/` (a registry's `:port` is not a tag).
 */
export const pinnedImage = z
  .string()
  .min(1)
  // ContainerProperties.image: "255 characters long … letters, numbers, hyphens (-), underscores (_), colons
  // (:), periods (.), forward slashes (/), and number signs (#)" (and `@` of a digest); it starts with a
  // letter or digit, so it can never be read as an option of `docker run`.
  .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/:#@]{0,254}$/, { message: "an image reference is up to 255 letters, digits and - _ : . / # @, starting with a letter or digit" })
  .refine((i) => /@sha256:[0-9a-f]{64}$/.test(i) || /:[\w][\w.-]{0,127}$/.test(i.slice(i.lastIndexOf("/") + 1)), {
    message: "pin a tag or digest (`busybox:1.37`, `…@sha256:<64 hex>`): without one Docker pulls `:latest`",
  })
  .refine((i) => !i.endsWith(":latest"), { message: "pin a tag or digest instead of `:latest`" });

/** Names usable as job definition keys in workflow specs. */
export const JOB_DEFINITION_KEY = /^[a-z][a-zA-Z0-9-]{0,31}$/;

const environmentSchema = z.record(z.string().regex(ENV_NAME, { message: "must be a valid environment variable name" }), z.string());

// Batch's own shapes; the rules between fields are stack/containerRules.ts'. Each schema is checked
// against the SDK's type below, so a misspelt field fails `tsc`.
const volumeSchema = z
  .object({
    name: z.string(),
    host: z.object({ sourcePath: z.string().optional() }).strict().optional(),
    efsVolumeConfiguration: z
      .object({
        fileSystemId: z.string(),
        rootDirectory: z.string().optional(),
        transitEncryption: z.enum(Object.values(EFSTransitEncryption) as [EFSTransitEncryption, ...EFSTransitEncryption[]]).optional(),
        transitEncryptionPort: z.number().int().optional(),
        authorizationConfig: z
          .object({
            accessPointId: z.string().optional(),
            iam: z.enum(Object.values(EFSAuthorizationConfigIAM) as [EFSAuthorizationConfigIAM, ...EFSAuthorizationConfigIAM[]]).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
const mountPointSchema = z.object({ sourceVolume: z.string(), containerPath: z.string(), readOnly: z.boolean().optional() }).strict();
const secretSchema = z.object({ name: z.string(), valueFrom: z.string() }).strict();
const ulimitSchema = z.object({ name: z.string(), softLimit: z.number(), hardLimit: z.number() }).strict();
// Compile-time: the config's shapes are the Batch API's.
const shapes: [z.ZodType<Volume>, z.ZodType<MountPoint>, z.ZodType<Secret>, z.ZodType<Ulimit>] = [volumeSchema, mountPointSchema, secretSchema, ulimitSchema];
void shapes;

/** Services none of whose actions a job is granted: each manages identities or accounts. */
export const REFUSED_JOB_SERVICES = ["iam", "sts", "organizations", "sso", "identitystore", "account", "ec2-instance-connect"] as const;

/**
 * Actions a job is never granted: each runs code, or changes who may do what, as some other principal
 * (another job definition's role or the orchestrator's, a function, an instance, a build, a stack) or
 * opens the stack's data to others, without `iam:PassRole`.
 */
export const REFUSED_JOB_ACTIONS = [
  "batch:SubmitJob", "batch:RegisterJobDefinition", "batch:UpdateComputeEnvironment", "batch:UpdateJobQueue", "batch:CreateComputeEnvironment",
  "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:CreateFunction", "lambda:InvokeFunction", "lambda:AddPermission", "lambda:PublishLayerVersion",
  "ecs:RunTask", "ecs:StartTask", "ecs:ExecuteCommand", "ecs:RegisterTaskDefinition", "ecs:UpdateService", "ecs:CreateService",
  "ssm:SendCommand", "ssm:StartSession", "ssm:StartAutomationExecution", "ssm:CreateAssociation",
  "codebuild:StartBuild", "codebuild:StartBuildBatch", "codebuild:UpdateProject", "codebuild:CreateProject",
  "cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation:CreateStackSet",
  "ec2:RunInstances", "ec2:CreateLaunchTemplateVersion", "ec2:ModifyInstanceAttribute", "ec2:ModifyLaunchTemplate",
  "glue:UpdateDevEndpoint", "glue:CreateDevEndpoint", "glue:CreateJob", "glue:UpdateJob",
  "states:StartExecution", "states:UpdateStateMachine", "events:PutTargets",
  "kms:CreateGrant", "kms:PutKeyPolicy",
  "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutObjectAcl", "s3:PutBucketNotification", "s3:PutBucketNotificationConfiguration",
  "secretsmanager:PutResourcePolicy", "ecr:SetRepositoryPolicy", "logs:PutResourcePolicy", "sns:SetTopicAttributes", "sqs:SetQueueAttributes",
] as const;

const refusedActions = new Set<string>(REFUSED_JOB_ACTIONS.map((a) => a.toLowerCase()));

/**
 * An IAM action a job may be granted: `service:Action`, spelt out (no `*` or `?`: grant what the code
 * calls), neither of a service that manages identities ({@link REFUSED_JOB_SERVICES}) nor one that runs
 * code or changes access as another principal ({@link REFUSED_JOB_ACTIONS}).
 */
const jobAction = z
  .string()
  .regex(/^[a-z0-9-]+:[A-Za-z0-9]+$/, { message: "must be one action spelt out, `service:Action` (no `*` or `?`: name each action the job calls)" })
  .refine((a) => !(REFUSED_JOB_SERVICES as readonly string[]).includes(a.split(":")[0]!.toLowerCase()), {
    message: `${REFUSED_JOB_SERVICES.join(", ")} actions are not granted to jobs: a job that can change identities or assume roles can grant itself anything`,
  })
  .refine((a) => !refusedActions.has(a.toLowerCase()), {
    message: "is not granted to jobs: it runs code or changes access as another principal (another job's role, the orchestrator's, a function or an instance) without iam:PassRole",
  });

/** A statement of a job's own role: exact actions on named resources, as IAM's policy grammar has them. */
export const jobPolicyStatementSchema = z
  .object({
    Sid: z.string().regex(/^[A-Za-z0-9]{1,100}$/, { message: "a Sid is letters and digits" }).optional(),
    Effect: z.enum(["Allow", "Deny"]).default("Allow"),
    Action: z.array(jobAction).min(1),
    Resource: z.array(z.string().min(1)).min(1),
    Condition: z.record(z.string(), z.record(z.string(), z.union([z.string(), z.boolean(), z.number(), z.array(z.string())]))).optional(),
  })
  .strict();
export type JobPolicyStatement = z.output<typeof jobPolicyStatementSchema>;

export const processJobSchema = z
  .object({
    /** Pin a tag or digest; `:latest` makes runs unreproducible. Exactly one of `image` and `build`. */
    image: pinnedImage.optional(),
    /**
     * Build the image from a folder of this repository (a Dockerfile in it) and push it to the stack's ECR
     * repository at `pulumi up`, as the orchestrator's is. `batch-pipeline run` runs the job in that folder.
     */
    build: z
      .object({
        /** The folder, relative to the project root (where Pulumi.yaml is). */
        context: z.string().min(1).refine((c) => !c.startsWith("/") && !c.split("/").includes(".."), { message: "must be a folder inside the project, relative to Pulumi.yaml" }),
        /** A file in `context` (its hash, which tags the image, covers only the folder). @default Dockerfile */
        dockerfile: z
          .string()
          .min(1)
          .refine((d) => !d.startsWith("/") && !d.split("/").includes(".."), { message: "must be a file inside build.context, relative to it" })
          .optional(),
      })
      .strict()
      .optional(),
    /** @default 1 */
    vcpus: z.number().positive().default(1),
    /** @default 2048 */
    memoryMiB: z.number().int().min(4).default(2048),
    /** GPUs per job (EC2 only). @default none */
    gpus: z.number().optional(),
    /** The container's command; `Ref::name` placeholders take `parameters`. @default the image's */
    command: z.array(z.string()).optional(),
    environment: environmentSchema.default({}),
    /** Default values of `Ref::name` placeholders in `command` (a submission's parameters win). @default none */
    parameters: z.record(z.string().regex(/^[A-Za-z0-9_]{1,128}$/, { message: "a parameter name is letters, digits and _" }), z.string()).optional(),
    /** Environment variables from SSM parameters or Secrets Manager secrets, by full ARN. @default none */
    secrets: z.array(secretSchema).optional(),
    volumes: z.array(volumeSchema).optional(),
    mountPoints: z.array(mountPointSchema).optional(),
    /** Fargate only: 21 to 200 GiB. @default Fargate's 20 GiB */
    ephemeralStorageGiB: z.number().optional(),
    /** EC2 only: size of /dev/shm. @default Docker's 64 MiB */
    sharedMemoryMiB: z.number().optional(),
    /** EC2 only. @default the instance's */
    ulimits: z.array(ulimitSchema).optional(),
    /** `user`, `uid`, `user:group` or `uid:gid` (docker run --user). @default the image's */
    user: z.string().optional(),
    /** @default false */
    readonlyRootFilesystem: z.boolean().optional(),
    /** Per attempt. @default 3600 */
    timeoutSeconds: z.number().int().min(60).default(3600),
    /** 1 to 10, as the job definition component accepts. @default 3 */
    retryAttempts: z
      .number()
      .int()
      .superRefine((n, ctx) => {
        const problem = retryAttemptsProblem(n);
        if (problem) ctx.addIssue({ code: "custom", message: problem.rule });
      })
      .default(3),
    /** Failures that are transient: retried (within `retryAttempts`) like Spot reclamation. @default none */
    retryOn: z
      .object({
        exitCodes: z.array(z.union([z.number().int(), z.string()])).optional(),
        statusReasons: z.array(z.string()).optional(),
      })
      .strict()
      .optional(),
    /** Extra statements of this definition's own job role, on top of reading inputs and writing results. @default none */
    policyStatements: z.array(jobPolicyStatementSchema).optional(),
  })
  .strict()
  .superRefine((job, ctx) => {
    if ((job.image === undefined) === (job.build === undefined)) {
      ctx.addIssue({ code: "custom", path: job.image === undefined ? ["image"] : ["build"], message: "set exactly one of `image` (a pinned image) and `build` (a folder with a Dockerfile)" });
    }
  });
export type ProcessJobConfig = z.output<typeof processJobSchema>;

/**
 * The process job of a stack that configures none. Every step of the default workflow runs its command
 * (no step sets one), which says which task of which step it is. ECR Public's mirror avoids Docker Hub's
 * pull limits.
 */
export const DEFAULT_PROCESS_JOB = {
  image: "public.ecr.aws/docker/library/busybox:1.37",
  command: ["sh", "-c", 'echo "hello world from $PIPELINE_STEP task $((PIPELINE_ARRAY_OFFSET + ${AWS_BATCH_JOB_ARRAY_INDEX:-0})) of $PIPELINE_TASK_COUNT"'],
} as const;
