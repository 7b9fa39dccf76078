/**
 * `AWS::Lambda::Permission`: a statement of the function's resource policy in the Lambda stand-in,
 * which decides whether EventBridge may invoke the function; its Ref is the statement id.
 */
import { simulated } from './simulated';

/** A permission, added to the function's policy in the Lambda stand-in. */
export const lambdaPermission = simulated({
  identity(_at, _properties, { name }) {
    // Its Ref is the statement id it added to the function's policy.
    return { physicalId: name, attributes: {} };
  },
  apply(context, deployed) {
    const p = deployed.properties;
    // Every property of a permission replaces it; the statement id stays the resource's.
    context.state.cloud.lambda.addPermission(String(p.FunctionName), deployed.physicalId, {
      action: String(p.Action),
      principal: String(p.Principal),
      sourceArn: p.SourceArn === undefined ? undefined : String(p.SourceArn),
      sourceAccount: p.SourceAccount === undefined ? undefined : String(p.SourceAccount),
    });
  },
  remove(context, deployed) {
    context.state.cloud.lambda.removePermission(String(deployed.properties.FunctionName), deployed.physicalId);
  },
});
