/**
 * The production example's deploy and boundary documents (deploy/policies.ts) as the deploy tests that load a prod
 * variant under mocks (queueDelivery.test.ts, inlineOrchestration.test.ts) simulate them: the example parameters in
 * the mocks' account, prod's and dev's roles and resource prefixes, and ARNs of the mocks' region.
 */
import { boundaryArnOf, stackRoles } from "../../deploy/policies";
import { EXAMPLE } from "../../deploy/render";
import { resourcePrefix } from "../../stack/naming";
import { ACCOUNT_ID, PROJECT, REGION } from "../mocks";

export const params = { ...EXAMPLE, accountId: ACCOUNT_ID };
export const BOUNDARY = boundaryArnOf(params, "prod");
export const prodRoles = stackRoles(params, "prod");
export const devRoles = stackRoles(params, "dev");
export const prod = resourcePrefix(PROJECT, "prod");
export const dev = resourcePrefix(PROJECT, "dev");
/** The deploy role's session, as GitHub Actions assumes it. */
export const PRINCIPAL = `arn:aws:iam::${ACCOUNT_ID}:role/github-actions`;
export const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:${resource}`;
