/**
 * The policy pack `pulumi preview --policy-pack policy` runs: Pulumi starts this module with the
 * pack's folder as working directory, and `new PolicyPack` serves the policies to the engine over gRPC
 * (its version is policy/package.json's). Levels can be changed per run with `--policy-pack-config`.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_ENFORCEMENT_LEVEL, PACK_NAME, policies } from "./policies";

new PolicyPack(PACK_NAME, {
  description: "batch-pipeline's rules for AWS: least-privilege IAM, private TLS-only encrypted buckets, IMDSv2 and encrypted volumes, log retention, bounded and safely retried Batch jobs, SQS-fed Lambdas that report batch item failures.",
  enforcementLevel: PACK_ENFORCEMENT_LEVEL,
  policies,
});
