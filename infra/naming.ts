import { createHash } from "node:crypto";

/**
 * The prefix of every logical (and so physical) resource name. AWS names are the strictest common
 * denominator: S3 buckets and ECR repositories take only lowercase letters, digits and `-`; IAM role
 * names stop at 64 characters, of which Pulumi's autonaming adds 8 and our longest suffix
 * (`-ondemand-instance-profile`) 26. So the prefix is sanitized and capped at 28 characters.
 *
 * Some names are fixed rather than autonamed (log groups, the logs resource policy), so two stacks must
 * never share a prefix: a name that has to be cleaned or shortened ends with a hash of the original
 * project and stack names.
 */
export const MAX_PREFIX_CHARS = 28;
const HASH_CHARS = 6;

export function resourcePrefix(project: string, stack: string): string {
  const cleaned = `${project}-${stack}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  // Unchanged and short enough: readable as is.
  if (cleaned === `${project}-${stack}` && cleaned.length <= MAX_PREFIX_CHARS) return cleaned;
  // Otherwise hash the original names: `prod_eu` and `prod-eu` clean to the same text but are different
  // stacks, as are two long names that share their first 21 characters.
  const hash = createHash("sha256").update(`${project}\0${stack}`).digest("hex").slice(0, HASH_CHARS);
  const head = cleaned.slice(0, MAX_PREFIX_CHARS - HASH_CHARS - 1).replace(/-$/, "");
  return head === "" ? `pipeline-${hash}` : `${head}-${hash}`;
}
