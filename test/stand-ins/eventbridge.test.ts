/**
 * The EventBridge stand-in: pattern matching, input transformation and delivery to Lambda targets
 * must behave as EventBridge does, or the rollback tests built on it prove nothing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LifecycleDriver } from '../driver/driver';
import { LocalCloud } from '../driver/local-cloud';
import type { BusEvent, Rule, RuleTarget } from '../emulator/eventbridge';
import { EventBridgeEmulator } from '../emulator/eventbridge';
import type { StackIdForm } from '../emulator/eventbridge-events';
import { matchesPattern, stackIdInForm, stackStatusChangeEvent } from '../emulator/eventbridge-events';
import { targetInput, validateTarget, valueAtPath } from '../emulator/eventbridge-input';
import { LambdaEmulator } from '../emulator/lambda';

const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Site/0b1c2d3e-aaaa-bbbb-cccc-000011112222';
const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:Site-Handler';
const RULE_ARN = 'arn:aws:events:eu-west-1:123456789012:rule/Site-Rule';

function statusEvent(status: string, id = 'e1'): BusEvent {
  return stackStatusChangeEvent({ id, stackId: STACK_ID, status, time: new Date(Date.UTC(2026, 0, 1, 12, 0, 5, 123)) });
}

/** The rule the library adds, as CloudFormation hands it to EventBridge once intrinsics are resolved. */
const PATTERN = {
  'source': ['aws.cloudformation'],
  'detail-type': ['CloudFormation Stack Status Change'],
  'detail': { 'stack-id': [STACK_ID], 'status-details': { status: ['UPDATE_ROLLBACK_COMPLETE'] } },
};
/** What aws-cdk-lib's RuleTargetInput.fromObject makes of the rollback purge, with CloudFormation's tokens resolved. */
const TARGET: RuleTarget = {
  Id: 'Target0',
  Arn: FUNCTION_ARN,
  InputTransformer: {
    InputPathsMap: { 'id': '$.id', 'detail-stack-id': '$.detail.stack-id', 'detail-status-details-status': '$.detail.status-details.status', 'time': '$.time' },
    InputTemplate: '{"rollbackPurge":{"eventId":<id>,"stackId":<detail-stack-id>,"status":<detail-status-details-status>,"time":<time>,'
      + '"targets":[{"DistributionId":"E1SITE","Paths":["/*","/a \\"quoted\\" <b>"]}]}}',
  },
  DeadLetterConfig: { Arn: 'arn:aws:sqs:eu-west-1:123456789012:Site-Dlq' },
};
const RULE: Rule = { arn: RULE_ARN, name: 'Site-Rule', eventPattern: PATTERN, targets: [TARGET] };

describe('stack status events', () => {
  test('carry what CloudFormation sends: source, detail-type, the stack in resources and detail, whole-second time', () => {
    expect(statusEvent('UPDATE_ROLLBACK_COMPLETE')).toEqual({
      'version': '0',
      'id': 'e1',
      'detail-type': 'CloudFormation Stack Status Change',
      'source': 'aws.cloudformation',
      'account': '123456789012',
      'time': '2026-01-01T12:00:05Z',
      'region': 'eu-west-1',
      'resources': [STACK_ID],
      'detail': { 'stack-id': STACK_ID, 'status-details': { 'status': 'UPDATE_ROLLBACK_COMPLETE', 'status-reason': '' } },
    });
  });

  test('carry detail.stack-id in the form asked: the full ARN by default, the ARN without its unique id, or the name; resources keep the full id', () => {
    const event = (stackIdForm?: StackIdForm) => stackStatusChangeEvent({ id: 'e1', stackId: STACK_ID, status: 'UPDATE_COMPLETE', time: new Date(0), stackIdForm });
    expect([undefined, 'arn', 'arn-without-id', 'name'].map((f) => [event(f as StackIdForm).detail['stack-id'], event(f as StackIdForm).resources])).toEqual([
      [STACK_ID, [STACK_ID]],
      [STACK_ID, [STACK_ID]],
      ['arn:aws:cloudformation:eu-west-1:123456789012:stack/Site', [STACK_ID]],
      ['Site', [STACK_ID]],
    ]);
    expect(() => stackStatusChangeEvent({ id: 'e1', stackId: 'Site', status: 'X', time: new Date(0) })).toThrow(/not a full stack id/);
  });
});

describe('event patterns', () => {
  test('match exact values in arrays, nested objects, and nothing else', () => {
    expect(matchesPattern(PATTERN, statusEvent('UPDATE_ROLLBACK_COMPLETE'))).toBe(true);
    expect(matchesPattern(PATTERN, statusEvent('UPDATE_ROLLBACK_FAILED'))).toBe(false);
    expect(matchesPattern(PATTERN, statusEvent('UPDATE_COMPLETE'))).toBe(false);
    const other = { ...statusEvent('UPDATE_ROLLBACK_COMPLETE'), detail: { 'stack-id': `${STACK_ID}x`, 'status-details': { status: 'UPDATE_ROLLBACK_COMPLETE' } } };
    expect(matchesPattern(PATTERN, other)).toBe(false);
    expect(matchesPattern({ detail: { missing: ['x'] } }, statusEvent('UPDATE_COMPLETE'))).toBe(false);
  });

  test('match an event array when any item matches, and the prefix, anything-but and exists matchers', () => {
    const event = statusEvent('UPDATE_ROLLBACK_COMPLETE');
    expect(matchesPattern({ resources: [STACK_ID] }, event)).toBe(true);
    expect(matchesPattern({ detail: { 'stack-id': [{ prefix: 'arn:aws:cloudformation:eu-west-1:' }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { 'status-details': { status: [{ 'anything-but': ['UPDATE_ROLLBACK_COMPLETE'] }] } } }, event)).toBe(false);
    expect(matchesPattern({ detail: { 'client-request-token': [{ exists: false }] } }, event)).toBe(true);
  });

  test('filter detail.stack-id in any of its forms with exact values, prefix, anything-but, alternatives and $or', () => {
    const forms: StackIdForm[] = ['arn', 'arn-without-id', 'name'];
    const matching = (pattern: Record<string, unknown>) => forms.filter((stackIdForm) => matchesPattern(pattern, stackStatusChangeEvent({
      id: 'e1', stackId: STACK_ID, status: 'UPDATE_ROLLBACK_COMPLETE', time: new Date(0), stackIdForm,
    })));
    const stackId = (accepted: unknown[]) => ({ source: ['aws.cloudformation'], detail: { 'stack-id': accepted } });
    // The library's rule: the full ARN, exactly.
    expect(matching(PATTERN)).toEqual(['arn']);
    expect(matching(stackId([{ prefix: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Site' }]))).toEqual(['arn', 'arn-without-id']);
    expect(matching(stackId([{ prefix: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Site/' }]))).toEqual(['arn']);
    expect(matching(stackId([{ 'anything-but': { prefix: 'arn:' } }]))).toEqual(['name']);
    expect(matching(stackId(['Site', STACK_ID]))).toEqual(['arn', 'name']);
    expect(matching({ $or: [stackId(['Site']), stackId([{ suffix: 'stack/Site' }])] })).toEqual(['arn-without-id', 'name']);
    expect(matching({ detail: { $or: [{ 'stack-id': ['Site'] }, { 'status-details': { status: ['UPDATE_COMPLETE'] } }] } })).toEqual(['name']);
    expect(() => matching({ $or: [stackId(['Site'])] })).toThrow(/\$or must list at least two patterns/);
  });
});

describe('input transformation', () => {
  test('fills a JSON template: values outside quotes as JSON, strings quoted; text inside quotes left alone', () => {
    expect(targetInput(TARGET, statusEvent('UPDATE_ROLLBACK_COMPLETE'), RULE)).toEqual({
      rollbackPurge: {
        eventId: 'e1',
        stackId: STACK_ID,
        status: 'UPDATE_ROLLBACK_COMPLETE',
        time: '2026-01-01T12:00:05Z',
        targets: [{ DistributionId: 'E1SITE', Paths: ['/*', '/a "quoted" <b>'] }],
      },
    });
  });

  test('places a value inside quotes as text, a missing path as null, and knows the reserved names', () => {
    const target = { ...TARGET, InputTransformer: { InputPathsMap: { s: '$.detail.status-details.status', none: '$.detail.nothing' }, InputTemplate: '{"m":"now <s> by <aws.events.rule-name>","n":<none>}' } };
    expect(targetInput(target, statusEvent('UPDATE_COMPLETE'), RULE)).toEqual({ m: 'now UPDATE_COMPLETE by Site-Rule', n: null });
    expect(valueAtPath(statusEvent('X'), '$.resources[0]')).toBe(STACK_ID);
    expect(targetInput({ ...TARGET, InputTransformer: undefined }, statusEvent('X'), RULE)).toEqual(statusEvent('X'));
  });
});

describe('PutTargets', () => {
  function withTransformer(InputTemplate: string, InputPathsMap?: Record<string, string>): Rule {
    return { ...RULE, targets: [{ ...TARGET, InputTransformer: { InputPathsMap, InputTemplate } }] };
  }

  test('refuses an InputTemplate over 8192 characters, over 100 InputPathsMap entries, and reserved names as keys, naming the target', () => {
    const bus = new EventBridgeEmulator({ lambda: undefined as unknown as LambdaEmulator, tick: () => 0 });
    const longest = `"${'x'.repeat(8190)}"`;
    expect(() => bus.putRule(withTransformer(longest))).not.toThrow();
    const tooLong = `"${'x'.repeat(8191)}"`;
    expect(() => bus.putRule(withTransformer(tooLong))).toThrow(/^PutTargets on rule Site-Rule failed for target Target0: InputTemplate is 8193 characters long/);
    const paths = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`v${i}`, '$.id']));
    expect(() => bus.putRule(withTransformer('{"a":<v0>}', paths(100)))).not.toThrow();
    expect(() => bus.putRule(withTransformer('{"a":<v0>}', paths(101)))).toThrow(/target Target0: InputPathsMap has 101 entries/);
    for (const name of ['aws.events.rule-arn', 'aws.events.rule-name', 'aws.events.event.ingestion-time', 'aws.events.event', 'aws.events.event.json']) {
      expect(() => bus.putRule(withTransformer('{"a":"b"}', { [name]: '$.id' }))).toThrow(new RegExp(`target Target0: InputPathsMap may not define the reserved name\\(s\\) ${name.replace(/\./g, '\\.')}$`));
    }
    // A refused PutTargets leaves the rule as it was.
    expect(bus.rule(RULE_ARN)?.targets[0].InputTransformer?.InputTemplate).toBe('{"a":<v0>}');
    expect(() => validateTarget(withTransformer(tooLong).targets[0], RULE)).toThrow(expect.objectContaining({ name: 'ValidationException' }));
  });

  test('refuses a JSON InputTemplate that is not JSON once its placeholders are filled in, and takes a plain-text one', () => {
    const bus = new EventBridgeEmulator({ lambda: undefined as unknown as LambdaEmulator, tick: () => 0 });
    const map = { k: '$.id' };
    for (const template of [
      '{"a":"say "hi" now"}', // a quote not escaped
      '{"a":"C:\\path"}', // \p is no JSON escape
      '{"a":"two\nlines"}', // a raw line feed inside a string
      '{"a":"tab\there"}', // a raw tab inside a string
      '{"a":<nothing>}', // not defined: left as written, outside quotes
      '{<k>:1}', // a placeholder as an object key
      '{"a":"<aws.events.event>"}', // the whole event, unescaped, inside quotes
      '[<k>,]',
    ]) {
      expect(() => bus.putRule(withTransformer(template, map))).toThrow(/^PutTargets on rule Site-Rule failed for target Target0: InputTemplate is not valid JSON once its placeholders are filled in/);
    }
    expect(() => bus.putRule(RULE)).not.toThrow();
    for (const template of [
      '{"a":<k>,"b":"x <k> \\"<k>\\" <undefined> y","c":<aws.events.rule-arn>,"e":<aws.events.event.json>}',
      ' [<k>, "<k>"]',
      '<k> is in state "<aws.events.rule-name>" \\q {',
    ]) {
      expect(() => bus.putRule(withTransformer(template, map))).not.toThrow();
    }
    expect(bus.rule(RULE_ARN)?.targets[0].InputTransformer?.InputTemplate).toBe('<k> is in state "<aws.events.rule-name>" \\q {');
  });
});

describe('delivery to a Lambda target', () => {
  let codeDir: string;
  let lambda: LambdaEmulator;
  let bus: EventBridgeEmulator;
  let tick = 0;

  beforeAll(() => {
    codeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eventbridge-test-'));
    fs.writeFileSync(path.join(codeDir, 'index.js'), 'exports.handler = async (e) => { if (process.env.FAIL === "yes") { throw new Error("boom"); } return e; };');
  });

  afterAll(() => {
    fs.rmSync(codeDir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string> = {}, permitted = true): Promise<void> {
    lambda = await LambdaEmulator.start({ retryDelaysMs: [10, 20] });
    lambda.register({ name: 'Site-Handler', arn: FUNCTION_ARN, codeDir, handler: 'index.handler', timeoutMs: 5000, env });
    if (permitted) {
      lambda.addPermission(FUNCTION_ARN, 'AllowRule', { action: 'lambda:InvokeFunction', principal: 'events.amazonaws.com', sourceArn: RULE_ARN });
    }
    bus = new EventBridgeEmulator({ lambda, tick: () => ++tick });
    bus.putRule(RULE);
  }

  afterEach(async () => {
    await lambda.idle();
    await lambda.close();
  });

  test('invokes the function asynchronously with the transformed input, only for matching events', async () => {
    await start();
    bus.putEvent(statusEvent('UPDATE_ROLLBACK_IN_PROGRESS', 'e0'));
    bus.putEvent(statusEvent('UPDATE_ROLLBACK_COMPLETE', 'e1'));
    await lambda.idle();
    expect(lambda.invocations.map((i) => [i.source, (i.payload as { rollbackPurge: { eventId: string } }).rollbackPurge.eventId, i.outcome])).toEqual([['event', 'e1', 'ok']]);
    expect(bus.deliveries.map((d) => [d.eventId, d.outcome, d.copy, d.late])).toEqual([['e1', 'invoked', 1, false]]);
    expect(bus.deliveries[0].payload).toBe(lambda.invocations[0].payload);
  });

  test('matches the rules of the moment it is sent: a rule deleted before the event sees nothing', async () => {
    await start();
    bus.deleteRule(RULE_ARN);
    bus.putEvent(statusEvent('UPDATE_ROLLBACK_COMPLETE'));
    await lambda.idle();
    expect(bus.deliveries).toEqual([]);
    expect(lambda.invocations).toEqual([]);
  });

  test('fills in every defined placeholder at delivery, inside quotes too: a literal /promo<id>.html becomes the event id', async () => {
    await start();
    const target: RuleTarget = {
      ...TARGET,
      InputTransformer: {
        InputPathsMap: { id: '$.id', reason: '$.detail.status-details.status-reason' },
        InputTemplate: '{"paths":["/promo<id>.html","/<other>.html","/<aws.events.rule-name>"],"why":"<reason>","id":<id>}',
      },
    };
    bus.putRule({ ...RULE, targets: [target] });
    const event = stackStatusChangeEvent({ id: 'e7', stackId: STACK_ID, status: 'UPDATE_ROLLBACK_COMPLETE', reason: 'a "b" \\c', time: new Date(0) });
    bus.putEvent(event);
    await lambda.idle();
    expect(lambda.invocations.map((i) => i.payload)).toEqual([{ paths: ['/promoe7.html', '/<other>.html', '/Site-Rule'], why: 'a "b" \\c', id: 'e7' }]);
  });

  test('a new or changed rule matches events only once ruleChangeDelayMs has passed, the version before until then; a deleted one stops at once', async () => {
    await start();
    let now = 1000;
    bus = new EventBridgeEmulator({ lambda, tick: () => ++tick, ruleChangeDelayMs: 500, now: () => now });
    const sent = (status: string, id: string) => bus.putEvent(statusEvent(status, id));
    bus.putRule(RULE);
    sent('UPDATE_ROLLBACK_COMPLETE', 'new-too-soon');
    now = 1499;
    sent('UPDATE_ROLLBACK_COMPLETE', 'new-still-too-soon');
    now = 1500;
    sent('UPDATE_ROLLBACK_COMPLETE', 'new-in-effect');
    // The change: another status, another input.
    const changed: Rule = {
      ...RULE,
      eventPattern: { ...PATTERN, detail: { 'stack-id': [STACK_ID], 'status-details': { status: ['UPDATE_COMPLETE'] } } },
      targets: [{ Id: 'Target0', Arn: FUNCTION_ARN, Input: '{"changed":true}' }],
    };
    bus.putRule(changed);
    expect(bus.rule(RULE_ARN)).toBe(changed);
    now = 1999;
    sent('UPDATE_ROLLBACK_COMPLETE', 'old-version');
    sent('UPDATE_COMPLETE', 'change-too-soon');
    now = 2000;
    sent('UPDATE_ROLLBACK_COMPLETE', 'old-version-gone');
    sent('UPDATE_COMPLETE', 'change-in-effect');
    bus.putRule(RULE);
    bus.deleteRule(RULE_ARN);
    sent('UPDATE_COMPLETE', 'deleted');
    now = 3000;
    sent('UPDATE_COMPLETE', 'still-deleted');
    sent('UPDATE_ROLLBACK_COMPLETE', 'still-deleted-too');
    await lambda.idle();
    expect(bus.deliveries.map((d) => [d.eventId, Object.keys(d.payload as object)[0]])).toEqual([
      ['new-in-effect', 'rollbackPurge'], ['old-version', 'rollbackPurge'], ['change-in-effect', 'changed'],
    ]);
    bus.ruleChangeDelayMs = 0;
    bus.putRule(RULE);
    sent('UPDATE_ROLLBACK_COMPLETE', 'at-once');
    expect(bus.deliveries.map((d) => d.eventId).slice(3)).toEqual(['at-once']);
  });

  test('delivers the same event twice, with the same id, when asked', async () => {
    await start();
    bus.putEvent(statusEvent('UPDATE_ROLLBACK_COMPLETE'), { twice: true });
    await lambda.idle();
    expect(bus.deliveries.map((d) => [d.eventId, d.copy])).toEqual([['e1', 1], ['e1', 2]]);
    expect(lambda.invocations).toHaveLength(2);
  });

  test('delivers late: after a delay, or held until released, matched on the rules of when it was sent', async () => {
    await start();
    bus.putEvent(statusEvent('UPDATE_ROLLBACK_COMPLETE', 'late'), { late: 150 });
    bus.putEvent(statusEvent('UPDATE_ROLLBACK_COMPLETE', 'held'), { late: 'next-step' });
    bus.deleteRule(RULE_ARN);
    expect(bus.deliveries).toEqual([]);
    expect([bus.dueCount, bus.heldCount]).toEqual([1, 1]);
    await bus.idle();
    expect(bus.deliveries.map((d) => [d.eventId, d.late])).toEqual([['late', true]]);
    bus.releaseHeld();
    await lambda.idle();
    expect(bus.deliveries.map((d) => d.eventId)).toEqual(['late', 'held']);
    expect(lambda.invocations.map((i) => i.outcome)).toEqual(['ok', 'ok']);
  });

  test('without the function\'s permission for the rule, the event goes to the target\'s dead-letter queue, not retried', async () => {
    await start({}, false);
    bus.putEvent(statusEvent('UPDATE_ROLLBACK_COMPLETE'));
    await lambda.idle();
    expect(lambda.invocations).toEqual([]);
    expect(bus.deliveries.map((d) => d.outcome)).toEqual(['dead-lettered']);
    expect(bus.deadLetters.map((d) => [d.queueArn, d.event.id])).toEqual([[TARGET.DeadLetterConfig!.Arn, 'e1']]);
  });

  test('an event the queue policy does not let EventBridge keep is dropped', async () => {
    await start({}, false);
    bus = new EventBridgeEmulator({ lambda, tick: () => ++tick, queueAccepts: () => false });
    bus.putRule(RULE);
    bus.putEvent(statusEvent('UPDATE_ROLLBACK_COMPLETE'));
    expect(bus.deliveries.map((d) => d.outcome)).toEqual(['dropped']);
    expect(bus.deadLetters).toEqual([]);
  });

  test('a function that fails on every attempt is retried twice by Lambda, then its event is discarded (no function DLQ)', async () => {
    await start({ FAIL: 'yes' });
    bus.putEvent(statusEvent('UPDATE_ROLLBACK_COMPLETE'));
    await lambda.idle();
    expect(lambda.invocations.map((i) => [i.attempt, i.outcome])).toEqual([[1, 'error'], [2, 'error'], [3, 'error']]);
    expect(bus.deliveries.map((d) => d.outcome)).toEqual(['invoked']);
    expect(bus.deadLetters).toEqual([]);
    expect(lambda.asyncFailures.map((f) => [f.functionName, f.deadLetterArn])).toEqual([['Site-Handler', undefined]]);
  });
});

describe('the local cloud and the lifecycle driver', () => {
  test('hands EventBridge its ruleChangeDelayMs option', async () => {
    const cloud = await LocalCloud.start({ ruleChangeDelayMs: 250 });
    try {
      expect(cloud.eventbridge.ruleChangeDelayMs).toBe(250);
    } finally {
      await cloud.close();
    }
    const defaults = await LocalCloud.start();
    try {
      expect(defaults.eventbridge.ruleChangeDelayMs).toBe(0);
    } finally {
      await defaults.close();
    }
  });

  test('send stack status events with detail.stack-id in the form stackIdForm asks', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eventbridge-test-'));
    const stack = { stackName: 'Forms', template: { Resources: { P: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'v' } } } }, assemblyDir: dir, assetDirs: new Map() };
    try {
      for (const stackIdForm of [undefined, 'arn-without-id', 'name'] as const) {
        const driver = await LifecycleDriver.start({ cloud: { stackIdForm } });
        try {
          expect(driver.cloud.stackIdForm).toBe(stackIdForm ?? 'arn');
          await driver.deploy(stack);
          const id = driver.stackId('Forms')!;
          const events = driver.cloud.eventbridge.events.map((e) => e.event);
          expect(events.map((e) => e.detail['status-details'])).toEqual([
            { 'status': 'CREATE_IN_PROGRESS', 'status-reason': 'User Initiated' }, { 'status': 'CREATE_COMPLETE', 'status-reason': '' },
          ]);
          expect(events.map((e) => [e.detail['stack-id'], e.resources[0]])).toEqual(Array(2).fill([stackIdInForm(id, stackIdForm ?? 'arn'), id]));
        } finally {
          await driver.close();
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a rule resource whose target PutTargets refuses fails with the ValidationException, naming the target, and the stack rolls back', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eventbridge-test-'));
    const rule = {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventPattern: { source: ['aws.cloudformation'] },
        Targets: [{ Id: 'Purge', Arn: FUNCTION_ARN, InputTransformer: { InputPathsMap: { id: '$.id' }, InputTemplate: '{"paths":["/a "b" <id>"]}' } }],
      },
    };
    const driver = await LifecycleDriver.start();
    try {
      const step = await driver.deploy({ stackName: 'Bad', template: { Resources: { Rule: rule } }, assemblyDir: dir, assetDirs: new Map() });
      expect(step.stackStatus).toBe('ROLLBACK_COMPLETE');
      const events = driver.cloud.cloudformation.stackEvents('Bad') ?? [];
      const failed = events.find((e) => e.LogicalResourceId === 'Rule' && e.ResourceStatus === 'CREATE_FAILED');
      expect(failed?.ResourceStatusReason).toMatch(/PutTargets on rule Bad-Rule-\w+ failed for target Purge: InputTemplate is not valid JSON/);
      expect(driver.resource('Bad', 'Rule')).toBeUndefined();
    } finally {
      await driver.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
