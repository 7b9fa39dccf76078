/**
 * `AWS::SSM::Parameter`: its Ref is its Name; a new Name replaces it (a new physical id, which
 * whatever refers to it sees, the old parameter deleted by the cleanup).
 */
import { simulated } from './simulated';

/** An SSM parameter. */
export const ssmParameter = simulated({
  identity(_at, properties, { name }) {
    return { physicalId: String(properties.Name ?? name), attributes: { Type: properties.Type, Value: properties.Value } };
  },
  replacement(existing, properties) {
    // A new name replaces an SSM parameter: a new physical id, which whatever refers to it sees.
    if (properties.Name === undefined || properties.Name === existing.properties.Name) {
      return undefined;
    }
    return { physicalId: String(properties.Name), attributes: { ...existing.attributes, Value: properties.Value } };
  },
});
