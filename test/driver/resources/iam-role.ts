/**
 * `AWS::IAM::Role`: its inline policies (`Policies`) are applied to the role, reaching the handlers
 * late as IAM does (`../applied-policies`); deleting the role withdraws them.
 */
import { ACCOUNT_ID } from '../local-cloud';
import { simulated } from './simulated';

/** A role, whose inline policies apply to itself. */
export const iamRole = simulated({
  identity(_at, _properties, { name, suffix }) {
    return { physicalId: name, attributes: { Arn: `arn:aws:iam::${ACCOUNT_ID}:role/${name}`, RoleId: `AROA${suffix}` } };
  },
  apply(context, deployed) {
    const inline = (deployed.properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: unknown[] } }>;
    const statements = inline.flatMap((x) => x.PolicyDocument.Statement);
    context.state.policies.set(`${context.stack.name}/${deployed.logicalId}/inline`, { roles: [deployed.physicalId], statements });
  },
  remove(context, deployed) {
    context.state.policies.set(`${context.stack.name}/${deployed.logicalId}/inline`, undefined);
  },
});
