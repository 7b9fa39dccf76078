/**
 * The credentials every client of the handler uses: Lambda puts the function role's credentials in
 * the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so the SDK's
 * default chain, with its SSO, STS and profile providers, would only add weight to the bundle.
 * The bundle puts this module where the clients import `@aws-sdk/credential-provider-node`.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export function defaultProvider(): ReturnType<typeof fromEnv> {
  return fromEnv();
}
