/** The stack's names (stack/naming.ts): one resource prefix per project and stack, and IAM roles' names. */
import { describe, expect, it } from "vitest";
import { MAX_PREFIX_CHARS, resourcePrefix, roleNaming } from "../../stack/naming";

describe("resourcePrefix", () => {
  it.each([
    ["batch-pipeline", "dev", /^batch-pipeline-dev-[0-9a-f]{6}$/],
    ["batch-pipeline", "Prod_EU", /^batch-pipeline-prod-e-[0-9a-f]{6}$/],
    ["batch-pipeline", "feature/JIRA-123.x", /^batch-pipeline-featur-[0-9a-f]{6}$/],
    ["batch-pipeline", "production-europe-west", /^batch-pipeline-produc-[0-9a-f]{6}$/],
    ["__", "__", /^pipeline-[0-9a-f]{6}$/],
    ["sg-tools", "dev", /^pipeline-[0-9a-f]{6}$/], // security group names may not start with sg-
    ["amzn-s3-demo-x", "dev", /^pipeline-[0-9a-f]{6}$/], // nor S3 buckets with amzn-s3-demo-
    ["sthree-x", "dev", /^pipeline-[0-9a-f]{6}$/],
  ])("%s + %s → %s", (project, stack, prefix) => {
    expect(resourcePrefix(project, stack)).toMatch(prefix);
    expect(resourcePrefix(project, stack)).toMatch(/^[a-z0-9][a-z0-9-]{0,27}$/);
  });
  it.each([
    ["production-europe-west", "production-europe-east"],
    ["prod_eu", "prod-eu"],
    ["prod.eu", "prod-eu"],
  ])("gives stacks %s and %s different prefixes (fixed names such as log groups must not collide)", (a, b) => {
    expect(resourcePrefix("batch-pipeline", a)).not.toBe(resourcePrefix("batch-pipeline", b));
  });
  it("tells project `p` + stack `eu-prod` from project `p-eu` + stack `prod`", () => {
    expect(resourcePrefix("batch-pipeline", "eu-prod")).not.toBe(resourcePrefix("batch-pipeline-eu", "prod"));
  });
  it("is at most MAX_PREFIX_CHARS long", () => {
    expect(resourcePrefix("a", "b".repeat(100)).length).toBeLessThanOrEqual(MAX_PREFIX_CHARS);
  });
});

describe("roleNaming", () => {
  it("leaves a role to Pulumi's autonaming when the name and its 8 random characters fit IAM's 64", () => {
    expect(roleNaming("x".repeat(56))).toEqual({});
  });
  it.each([57, 64, 100])("gives a %i-character logical name a namePrefix of at most 38 characters, ending in -", (length) => {
    const { namePrefix } = roleNaming(`${"a".repeat(30)}-${"b".repeat(length - 31)}`);
    expect(namePrefix).toMatch(/^a{30}-b{6}-$/);
    expect(namePrefix!.length).toBeLessThanOrEqual(38);
  });
});
