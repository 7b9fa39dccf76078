/**
 * `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy`: the statements apply to the roles named by
 * `Roles`, reaching the handlers late as IAM does (`../applied-policies`); deleting the policy
 * withdraws them.
 */
import { plainIdentity } from './other';
import { simulated } from './simulated';

/** A policy; a managed policy attached to roles by its Roles property acts as an inline one. */
export const iamPolicy = simulated({
  identity: plainIdentity,
  apply(context, deployed) {
    // A managed policy attached to roles by its Roles property acts as an inline one: its statements apply to those roles.
    const roles = (deployed.properties.Roles ?? []) as string[];
    const statements = (deployed.properties.PolicyDocument as { Statement: unknown[] }).Statement;
    context.state.policies.set(`${context.stack.name}/${deployed.logicalId}`, { roles, statements });
  },
  remove(context, deployed) {
    context.state.policies.set(`${context.stack.name}/${deployed.logicalId}`, undefined);
  },
});
