/**
 * `AWS::Lambda::Function`: the function behind the stack's invalidation resources runs its real
 * bundled code in the Lambda stand-in, with its template's environment variables and dead-letter
 * queue, and its role becomes one the IAM the driver applies is checked for. Any other function
 * only exists. Deleting it removes it from the stand-in.
 */
import { RESOURCE_TYPE } from '../../../src/shared/contract';
import type { HandlerFunction, SynthesizedStack } from '../assembly';
import { functionAt } from '../assembly';
import { arn, simulated } from './simulated';

/** A function; the invalidation handler's runs in the Lambda stand-in. */
export const lambdaFunction = simulated({
  identity(_at, _properties, { name }) {
    return { physicalId: name, attributes: { Arn: arn('lambda', `function:${name}`) } };
  },
  apply(context, deployed) {
    const p = deployed.properties;
    if (runsInvalidations(context.synthesized, deployed.logicalId)) {
      const fn: HandlerFunction = functionAt(context.synthesized, deployed.logicalId);
      const variables = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
      const env = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)]));
      const deadLetterArn = (p.DeadLetterConfig as { TargetArn?: string } | undefined)?.TargetArn;
      context.state.cloud.deployFunction(deployed.physicalId, fn, { env, deadLetterArn });
      context.state.policies.handlerRoles.add(String(p.Role).split('/').pop()!);
    }
  },
  remove(context, deployed) {
    context.state.cloud.lambda.unregister(deployed.physicalId);
  },
});

/** Whether the function is the one behind the synthesized stack's invalidation resources. */
function runsInvalidations(synthesized: SynthesizedStack, logicalId: string): boolean {
  return Object.values(synthesized.template.Resources).some((r) => r.Type === RESOURCE_TYPE
    && JSON.stringify(r.Properties?.ServiceToken) === JSON.stringify({ 'Fn::GetAtt': [logicalId, 'Arn'] }));
}
