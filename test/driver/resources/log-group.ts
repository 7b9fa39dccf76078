/** `AWS::Logs::LogGroup`: `/aws/lambda/<name>`, with its ARN; it only exists. */
import { arn, simulated } from './simulated';

/** A log group. */
export const logGroup = simulated({
  identity(_at, _properties, { name }) {
    return { physicalId: `/aws/lambda/${name}`, attributes: { Arn: arn('logs', `log-group:/aws/lambda/${name}:*`) } };
  },
});
