/**
 * Images built from a folder of the repository at `pulumi up`: an ECR repository with immutable tags, scan
 * on push and a lifecycle policy, and the image (awsx, Docker) tagged with a hash of its sources, so an
 * unchanged build reuses its tag. The orchestrator's image and any job definition's `build` use it.
 */
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import type * as pulumi from "@pulumi/pulumi";

export { buildFolder } from "../stack/buildFolder";

/**
 * A content hash of everything the image is built from, used as its tag: the repository's tags are
 * immutable, so an unchanged build reuses its tag and a changed one gets a new one.
 */
export function sourceHash(root: string, entries: readonly string[]): string {
  const hash = createHash("sha256");
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    // lstat: a symbolic link could lead outside the folder (or loop), a FIFO or device would never end.
    const stat = lstatSync(abs);
    if (stat.isDirectory()) {
      for (const child of readdirSync(abs).sort()) walk(path.join(rel, child));
    } else if (stat.isFile()) {
      hash.update(rel.split(path.sep).join("/")).update("\0").update(readFileSync(abs)).update("\0");
    } else {
      throw new Error(`${abs}: an image's build folder holds only files and folders (this is ${stat.isSymbolicLink() ? "a symbolic link" : "a special file"}); replace it with a copy`);
    }
  };
  for (const entry of entries) walk(entry);
  return hash.digest("hex").slice(0, 16);
}

/** What {@link buildImage} builds. */
export interface ImageBuildArgs {
  /** Absolute path of the build context. */
  readonly context: string;
  /** Absolute path of the Dockerfile. */
  readonly dockerfile: string;
  /** The image tag: a hash of the sources ({@link sourceHash}). */
  readonly tag: string;
  /** The CPU architecture of the instances that run it. @default linux/amd64 */
  readonly platform?: "linux/amd64" | "linux/arm64";
  readonly tags: Readonly<Record<string, string>>;
}

/** The repository (`<name>-repo`), its lifecycle policy and the image (`<name>-image`), children of `parent`. */
export function buildImage(name: string, args: ImageBuildArgs, parent: pulumi.Resource): { repository: aws.ecr.Repository; image: awsx.ecr.Image } {
  const tags = { ...args.tags };
  const repository = new aws.ecr.Repository(
    `${name}-repo`,
    {
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfigurations: [{ encryptionType: "AES256" }],
      tags,
    },
    { parent },
  );
  new aws.ecr.LifecyclePolicy(
    `${name}-repo-lifecycle`,
    {
      repository: repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: "Drop untagged layers after a week",
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
            action: { type: "expire" },
          },
          {
            rulePriority: 2,
            description: "Keep the 20 newest images (older start jobs may still reference one)",
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 20 },
            action: { type: "expire" },
          },
        ],
      }),
    },
    { parent },
  );
  const image = new awsx.ecr.Image(
    `${name}-image`,
    { repositoryUrl: repository.repositoryUrl, context: args.context, dockerfile: args.dockerfile, platform: args.platform ?? "linux/amd64", imageTag: args.tag },
    { parent },
  );
  return { repository, image };
}

