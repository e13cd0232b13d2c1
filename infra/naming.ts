/**
 * The prefix of every logical (and so physical) resource name. AWS names are the strictest common
 * denominator: S3 buckets and ECR repositories take only lowercase letters, digits and `-`; IAM role
 * names stop at 64 characters, of which Pulumi's autonaming adds 8 and our longest suffix
 * (`-ondemand-instance-profile`) 26. So the prefix is sanitized and capped at 28 characters.
 */
export const MAX_PREFIX_CHARS = 28;

export function resourcePrefix(project: string, stack: string): string {
  const cleaned = `${project}-${stack}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "");
  return cleaned.slice(0, MAX_PREFIX_CHARS).replace(/-$/, "") || "pipeline";
}
