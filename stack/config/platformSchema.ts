/**
 * Shapes and defaults of where jobs run: the network, the compute environments, the queues and the
 * process job definitions. Where a component checks the same rule, the shape calls the component's
 * problem function ({@link problemCheck}), so the rule lives once.
 */
import { CRAllocationStrategy, PlatformCapability } from "@aws-sdk/client-batch";
import { z } from "zod";
import type { ArgsProblem } from "../argsError";
import { ON_DEMAND_ALLOCATION_STRATEGIES, type Platform, queuePriorityProblem, SPOT_ALLOCATION_STRATEGIES } from "../batchRules";

export { ON_DEMAND_ALLOCATION_STRATEGIES, SPOT_ALLOCATION_STRATEGIES };


/** A zod check reporting a component's problem function (its rule is the message), for one value. */
function problemCheck(problem: (value: number) => ArgsProblem | undefined) {
  return (value: number, ctx: z.RefinementCtx<number>) => {
    const found = problem(value);
    if (found) ctx.addIssue({ code: "custom", message: found.rule });
  };
}

const vcpus = z.number().int().min(0).max(100_000);
// EC2 instance type names such as `optimal`, `c7i`, `m7g.2xlarge`.
const instanceType = z.string().regex(/^(optimal|default_x86_64|default_arm64|[a-z][a-z0-9-]*(\.[a-z0-9]+)?)$/, {
  message: "must be `optimal`, an instance family (`c7i`) or an instance type (`c7i.2xlarge`)",
});
const instanceTypes = z.array(instanceType).min(1).default(["optimal"]);
/** A queue priority, as the JobQueue component accepts it. */
const queuePriority = z.number().int().superRefine(problemCheck(queuePriorityProblem));

export const spotSchema = z
  .object({
    /** Instances kept warm. @default 0 (scale to zero when idle) */
    minVcpus: vcpus.default(0),
    /** @default 64 */
    maxVcpus: vcpus.min(1).default(64),
    /** Highest Spot price, as a percentage of the On-Demand price. @default 100 */
    bidPercentage: z.number().int().min(1).max(100).default(100),
    /** @default SPOT_PRICE_CAPACITY_OPTIMIZED */
    allocationStrategy: z.enum(SPOT_ALLOCATION_STRATEGIES).default(CRAllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED),
    instanceTypes,
  })
  .strict();

export const onDemandSchema = z
  .object({
    minVcpus: vcpus.default(0),
    /** The fallback is smaller than Spot by default: it only absorbs what Spot cannot place. @default 16 */
    maxVcpus: vcpus.min(1).default(16),
    /** @default BEST_FIT_PROGRESSIVE */
    allocationStrategy: z.enum(ON_DEMAND_ALLOCATION_STRATEGIES).default(CRAllocationStrategy.BEST_FIT_PROGRESSIVE),
    instanceTypes,
  })
  .strict();

export const fargateSchema = z
  .object({
    /** @default false */
    enabled: z.boolean().default(false),
    /** @default 16 */
    maxVcpus: vcpus.min(1).default(16),
    /** Put a FARGATE_SPOT environment before FARGATE in the Fargate queue. @default true */
    spotFirst: z.boolean().default(true),
    /** Priority of the Fargate queue (Fargate cannot share a queue with EC2). @default 50 */
    priority: queuePriority.default(50),
    /**
     * Give Fargate tasks a public IP, which they need to pull images and reach AWS APIs from a public
     * subnet without a NAT gateway. @default true with `network.mode: default`, false otherwise
     */
    assignPublicIp: z.boolean().optional(),
  })
  .strict();

export const queueSchema = z
  .object({
    /** Higher runs first when queues share environments. 0 to 1000. */
    priority: queuePriority,
  })
  .strict();

export const networkSchema = z.discriminatedUnion("mode", [
  z
    .object({
      /** The account's default VPC and its default subnets (public). Cheapest; fine for trials. */
      mode: z.literal("default"),
    })
    .strict(),
  z
    .object({
      /** A new VPC (awsx) with private subnets behind NAT. */
      mode: z.literal("new"),
      /** @default 10.0.0.0/16 */
      cidrBlock: z
        .string()
        .regex(/^(\d{1,3}\.){3}\d{1,3}\/(1[6-9]|2[0-4])$/, { message: "must be an IPv4 CIDR from /16 to /24" })
        .default("10.0.0.0/16"),
      /** @default 2 */
      availabilityZones: z.number().int().min(1).max(6).default(2),
      /** `Single` is cheap, `OnePerAz` survives an AZ outage, `None` needs VPC endpoints you add. @default Single */
      natGateways: z.enum(["None", "Single", "OnePerAz"]).default("Single"),
    })
    .strict(),
  z
    .object({
      mode: z.literal("existing"),
      vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { message: "must be a VPC id like vpc-0123456789abcdef0" }),
      subnetIds: z
        .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { message: "must be a subnet id like subnet-0123abcd" }))
        .min(1),
    })
    .strict(),
]);

export { DEFAULT_PROCESS_JOB, JOB_DEFINITION_KEY, pinnedImage, processJobSchema, type ProcessJobConfig } from "./jobDefinitionSchema";

/** Name of the Fargate queue, created when `compute.fargate.enabled`. */
export const FARGATE_QUEUE = "fargate";

/** Where process jobs run: Fargate on the Fargate queue (its definitions are Fargate ones), EC2 otherwise. */
export const processPlatform = (cfg: { readonly processQueue: string }): Platform =>
  cfg.processQueue === FARGATE_QUEUE ? PlatformCapability.FARGATE : PlatformCapability.EC2;
