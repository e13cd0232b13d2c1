/**
 * An IAM policy document: the policy language's current version (IAM User Guide, "IAM JSON policy elements:
 * Version": "2012-10-17. This is the current version of the policy language, and you should always include
 * a Version element and set it to 2012-10-17"), around the statements. One home for the stack's roles
 * (infra/iam.ts) and the deploy roles (deploy/policies.ts).
 */
const POLICY_LANGUAGE_VERSION = "2012-10-17";

export interface PolicyDocumentOf<S> {
  Version: typeof POLICY_LANGUAGE_VERSION;
  Statement: S[];
}

export const policyDocument = <S>(statements: S[]): PolicyDocumentOf<S> => ({ Version: POLICY_LANGUAGE_VERSION, Statement: statements });
