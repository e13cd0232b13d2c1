/**
 * The pack's policies, without the gRPC server `new PolicyPack` starts: tests and other programs call
 * each policy's validation directly, and `index.ts` (what `pulumi preview --policy-pack policy` loads)
 * serves this same list.
 */
import type { EnforcementLevel, Policies } from "@pulumi/policy";
import { batchPolicies } from "./batch";
import { ec2Policies } from "./ec2";
import { iamPolicies } from "./iam";
import { lambdaPolicies } from "./lambda";
import { logPolicies } from "./logs";
import { s3Policies } from "./s3";

/** The name Pulumi reports violations under (`pulumi preview` prints it with policy/package.json's version). */
export const PACK_NAME = "batch-pipeline";

/** The level of a policy that sets none; every policy here sets its own, mandatory unless it is a recommendation. */
export const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

export const policies: Policies = [...iamPolicies, ...s3Policies, ...ec2Policies, ...logPolicies, ...batchPolicies, ...lambdaPolicies];
