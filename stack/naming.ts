import { createHash } from "node:crypto";

/**
 * The prefix of every logical (and so physical) resource name. AWS names are the strictest common
 * denominator: S3 buckets and ECR repositories take only lowercase letters, digits and `-`; IAM role
 * names stop at 64 characters, of which Pulumi's autonaming adds 8 and our longest suffix
 * (`-ondemand-instance-profile`) 26. So the prefix is sanitized and capped at 28 characters.
 *
 * Some names are fixed rather than autonamed (log groups, the logs resource policy), so two stacks must
 * never share a prefix: it is the readable head of `project-stack` (at most 21 characters) and a hash
 * of the exact project and stack names.
 */
export const MAX_PREFIX_CHARS = 28;
const RESERVED_STARTS = /^(sg-|sthree-|amzn-s3-demo-)/;
const HASH_CHARS = 6;

export function resourcePrefix(project: string, stack: string): string {
  const cleaned = `${project}-${stack}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  // Always hash the original names: `prod_eu` and `prod-eu` clean to the same text, two long names can
  // share their first 21 characters, and project `p` + stack `eu-prod` reads like `p-eu` + `prod`.
  const hash = createHash("sha256").update(`${project}\0${stack}`).digest("hex").slice(0, HASH_CHARS);
  const head = cleaned.slice(0, MAX_PREFIX_CHARS - HASH_CHARS - 1).replace(/-$/, "");
  // Names AWS refuses to start with: security groups `sg-`; S3 buckets `sthree-`, `amzn-s3-demo-` (cleaning
  // already turns `xn--` into `xn-`).
  if (head === "" || RESERVED_STARTS.test(head)) return `pipeline-${hash}`;
  return `${head}-${hash}`;
}

/** IAM role names stop at 64 characters. */
const MAX_ROLE_NAME_CHARS = 64;
/** Pulumi's autonaming appends `-` and 7 random characters. */
const AUTONAME_SUFFIX_CHARS = 8;
/** The provider appends 26 unique characters to a `namePrefix`, so a role's prefix holds at most 38. */
const MAX_ROLE_NAME_PREFIX_CHARS = MAX_ROLE_NAME_CHARS - 26;

/**
 * How an IAM role gets its physical name: Pulumi's autonaming when the logical name leaves room for it,
 * otherwise a `namePrefix` cut from the logical name (the provider makes it unique). Components take
 * user-chosen names (job definition keys are up to 32 characters), so no fixed suffix budget holds.
 */
export function roleNaming(logicalName: string): { namePrefix?: string } {
  if (logicalName.length + AUTONAME_SUFFIX_CHARS <= MAX_ROLE_NAME_CHARS) return {};
  return { namePrefix: `${logicalName.slice(0, MAX_ROLE_NAME_PREFIX_CHARS - 1).replace(/-+$/, "")}-` };
}
