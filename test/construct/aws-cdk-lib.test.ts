/**
 * How the library uses aws-cdk-lib: no deprecated API, and no dependency methods of CfnResource.
 */
import * as path from 'path';
import { App, CfnCondition, CfnResource, Fn, NestedStack, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Invalidation, InvalidationPaths, InvalidationTrigger } from '../../src';
import { CLI_CONTEXT, newApp, siteStack } from '../support/synth';

// Every synthesis in this file fails on a deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

describe('aws-cdk-lib API', () => {
  function broadApp(): App {
    const app = newApp({ context: CLI_CONTEXT });
    siteStack({
      app,
      invalidation: { trigger: InvalidationTrigger.onChangeOf('v1') },
      extra: (stack, distribution, deployment) => {
        new Invalidation(stack, 'Copy', { distribution, trigger: InvalidationTrigger.onDeployment(deployment), paths: InvalidationPaths.ofDeployment(deployment) });
        const whole = new Invalidation(stack, 'Whole', {
          distribution, distributionTenantId: 'dt_1', waitForCompletion: true, executeAfterStack: false, trigger: InvalidationTrigger.onChangeOf('t'),
        });
        // Waited for through a conditional reference, in the anchor and in Whole.
        const optional = new ssm.StringParameter(stack, 'Optional', { stringValue: 'y' });
        (optional.node.defaultChild as CfnResource).cfnOptions.condition = new CfnCondition(stack, 'Sometimes', { expression: Fn.conditionEquals('a', 'b') });
        whole.executeAfter(optional);
        Invalidation.configureHandler(stack, { logRemovalPolicy: RemovalPolicy.DESTROY, logRetention: logs.RetentionDays.ONE_MONTH });
        const nested = new NestedStack(stack, 'Nested');
        new ssm.StringParameter(nested, 'Param', { stringValue: 'x' });
        new Invalidation(nested, 'Purge', { distribution });
      },
    });
    return app;
  }

  test('synthesizing prints no deprecation warning', () => {
    process.env.JSII_DEPRECATED = 'warn';
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      broadApp();
      expect(warn.mock.calls.map((args) => args.join(' ')).filter((line) => /deprecated/i.test(line))).toEqual([]);
    } finally {
      warn.mockRestore();
      process.env.JSII_DEPRECATED = 'fail';
    }
  });

  test('the library never calls CfnResource\'s dependency methods, and renders resources in one place only', () => {
    const src = path.join(path.resolve(__dirname, '..', '..', 'src'), path.sep);
    const calls: string[] = [];
    const proto = CfnResource.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
    const names = ['addDependency', 'removeDependency', 'addDependsOn', '_toCloudFormation'];
    const originals = names.map((name) => proto[name]);
    names.forEach((name, i) => {
      proto[name] = function (this: unknown, ...args: unknown[]) {
        // Frame 0 is the message, 1 this wrapper, 2 the caller.
        const caller = (new Error().stack ?? '').split('\n')[2] ?? '';
        if (caller.includes(src)) {
          calls.push(`${name} from ${path.basename(caller.slice(caller.indexOf(src)).split(':')[0])}`);
        }
        return originals[i].apply(this, args);
      };
    });
    try {
      broadApp();
    } finally {
      names.forEach((name, i) => (proto[name] = originals[i]));
    }
    expect([...new Set(calls)]).toEqual(['_toCloudFormation from render.ts']);
  });
});
