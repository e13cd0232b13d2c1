/**
 * What goes into the inline Lambda's upload. Pulumi zips every package in `dependencies` (and their
 * dependencies) unless excluded. The trigger needs only two kinds of packages, and neither is uploaded:
 * - the AWS SDK v3, which the nodejs22.x runtime ships;
 * - Powertools for AWS Lambda, which AWS publishes as a Lambda layer; the stack attaches the layer of
 *   exactly the version installed here, so the code tested is the code that runs.
 * The upload is then the serialized handler alone (a few KB) instead of ~360 KB of package folders.
 */
/** Packages the Lambda loads from its layer. */
export const LAYER_PACKAGES = ["@aws-lambda-powertools/idempotency"] as const;

/** Packages in `dependencies` that must not be zipped into the Lambda: all of them. */
export function lambdaExcludedPackages(dependencies: Record<string, string>): string[] {
  return Object.keys(dependencies);
}

/**
 * The Powertools version the tests ran against: package.json pins it exactly, and the layer must match.
 * @throws when the dependency is missing or given as a range.
 */
export function powertoolsVersion(dependencies: Record<string, string>): string {
  const version = dependencies[LAYER_PACKAGES[0]];
  if (!version || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(`package.json must pin ${LAYER_PACKAGES[0]} to an exact version (found ${JSON.stringify(version)}): the Lambda layer is chosen by it`);
  }
  return version;
}

/** The public SSM parameter AWS keeps for each Powertools (TypeScript) release: its layer version ARN. */
export function powertoolsLayerParameter(version: string): string {
  return `/aws/service/powertools/typescript/generic/all/${version}`;
}

/**
 * The account AWS publishes the Powertools for AWS Lambda (TypeScript) layers from, in every commercial
 * region: `arn:aws:lambda:{region}:094274105915:layer:AWSLambdaPowertoolsTypeScriptV2:{version}`
 * (Powertools' documentation, "Lambda Layers", docs/getting-started/lambda-layers.md, and the value of the
 * public SSM parameter above).
 */
export const POWERTOOLS_LAYER_ACCOUNT = "094274105915";
/** The name of the layer AWS publishes Powertools (TypeScript, v2) under. */
export const POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsTypeScriptV2";
