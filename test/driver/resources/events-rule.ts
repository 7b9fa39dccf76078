/**
 * `AWS::Events::Rule`: a rule of the EventBridge stand-in, which matches stack status events and
 * delivers them to its targets; its Ref is its name. The stand-in refuses a target as PutTargets
 * does (the resource fails); deleting the rule removes it.
 */
import { arn, simulated } from './simulated';
import type { Rule, RuleTarget } from '../../emulator/eventbridge';

/** A rule, put in the EventBridge stand-in. */
export const eventsRule = simulated({
  identity(_at, properties, { name }) {
    // Its Ref is the rule's name.
    const ruleName = String(properties.Name ?? name.slice(0, 64));
    return { physicalId: ruleName, attributes: { Arn: arn('events', `rule/${ruleName}`) } };
  },
  apply(context, deployed) {
    const p = deployed.properties;
    const rule: Rule = {
      arn: String(deployed.attributes.Arn),
      name: deployed.physicalId,
      eventPattern: (typeof p.EventPattern === 'string' ? JSON.parse(p.EventPattern) : p.EventPattern ?? {}) as Record<string, unknown>,
      state: p.State === undefined ? 'ENABLED' : String(p.State),
      targets: (p.Targets ?? []) as RuleTarget[],
    };
    context.state.cloud.eventbridge.putRule(rule);
  },
  remove(context, deployed) {
    context.state.cloud.eventbridge.deleteRule(String(deployed.attributes.Arn));
  },
});
