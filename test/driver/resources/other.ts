/**
 * Any resource type the driver has nothing particular for (a `Custom::AWS`, an
 * `AWS::IAM::Policy`'s own identity): it only exists, named `<stack>-<logical id>-<suffix>`, with
 * an `Arn` attribute; a stand-in for its handler, if the driver was given one, is still called.
 */
import type { DeployContext, Identity, Names } from './resource-type';
import { arn, simulated } from './simulated';

/** The identity of a resource of a type the driver has nothing particular for. */
export function plainIdentity(context: DeployContext, _properties: Record<string, unknown>, { name }: Names): Identity {
  return { physicalId: name, attributes: { Arn: arn(context.type.split('::')[1]?.toLowerCase() ?? 'custom', context.logicalId) } };
}

/** A resource of a type the driver has nothing particular for. */
export const otherResource = simulated({ identity: plainIdentity });
