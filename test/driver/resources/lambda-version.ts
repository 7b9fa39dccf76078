/** `AWS::Lambda::Version`: `<function>:<n>`, with a `Version` attribute; it only exists. */
import { simulated } from './simulated';

/** A function version. */
export const lambdaVersion = simulated({
  identity(context, properties) {
    const physicalId = `${String(properties.FunctionName)}:${context.state.prng.alphanumeric(2)}`;
    return { physicalId, attributes: { Version: String(1 + Math.floor(context.state.prng.next() * 1000)) } };
  },
});
