/** `AWS::CloudFormation::WaitConditionHandle`: its Ref is a presigned URL for signalling a wait condition; it only exists. */
import { REGION } from '../local-cloud';
import { simulated } from './simulated';

/** A wait condition handle. */
export const waitConditionHandle = simulated({
  identity(context, _properties, { suffix }) {
    // Its Ref is a presigned URL for signalling a wait condition.
    const url = `https://cloudformation-waitcondition-${REGION}.s3.${REGION}.amazonaws.com/${encodeURIComponent(context.stack.id)}/${context.logicalId}?X-Amz-Signature=${suffix}`;
    return { physicalId: url, attributes: {} };
  },
});
