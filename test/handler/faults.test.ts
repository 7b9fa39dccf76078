/**
 * What real deploys bring, against the bundled handler (from cdk.out, in the Lambda stand-in, the
 * real AWS SDK against the emulators): IAM that has not applied yet, calls that hang, answers that
 * do not go through, requests that are not the handler's, and secrets in what it logs.
 */
import { RESOURCE_TYPE } from '../../src/shared/contract';
import { SITE } from '../driver/handler-fixture';
import type { LocalCloud } from '../driver/local-cloud';
import { handlerCloudPerTest } from '../support/handler-cloud';
import type { InvalidationRequests } from '../support/requests';

let cloud: LocalCloud;
let fn: { name: string; arn: string };
let r: InvalidationRequests;
const start = handlerCloudPerTest((started) => ({ cloud, fn, r } = started));

/** An answer must come before CloudFormation gives up: far sooner than any of the hangs below. */
const ANSWER_WITHIN_MS = 30_000;

describe('IAM that has not applied yet', () => {
  test('CreateInvalidation denied for the first seconds after a policy change is retried, and the deploy succeeds', async () => {
    await start();
    const allow = cloud.authorizer;
    let deniedUntil = 0;
    let denials = 0;
    cloud.authorizer = (action, arn) => {
      if (action === 'cloudfront:CreateInvalidation' && (deniedUntil ||= Date.now() + 1500) > Date.now()) {
        denials++;
        return false;
      }
      return allow(action, arn);
    };
    const { answer } = await cloud.request(fn.name, r.create({ TimeoutSeconds: '60' }));
    expect(denials).toBeGreaterThan(1);
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'Submitted' } });
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
  });
});

describe('calls that hang', () => {
  test('a ListInvalidations that hangs does not hold the answer past the request\'s timeout', async () => {
    await start();
    cloud.cloudfront.setFaults({ rate: 1, seed: 1, kinds: ['Slow'], operations: ['ListInvalidations'], slowMs: 200_000 });
    const { answer } = await cloud.request(fn.name, r.create({ TimeoutSeconds: '5' }), ANSWER_WITHIN_MS);
    // Counting what is in progress gives up at the deadline; CloudFront then has the last word.
    expect(answer.Status).toMatch(/SUCCESS|FAILED/);
  });

  test('counting others\' invalidations in progress stops at the deadline, however slow each lookup is', async () => {
    await start();
    for (let i = 0; i < 25; i++) {
      cloud.cloudfront.seedInvalidation(SITE, [`/other/${i}`]);
    }
    cloud.cloudfront.setFaults({ rate: 1, seed: 1, kinds: ['Slow'], operations: ['GetInvalidation'], slowMs: 4000 });
    const { answer } = await cloud.request(fn.name, r.create({ TimeoutSeconds: '5' }), ANSWER_WITHIN_MS);
    expect(answer.Status).toMatch(/SUCCESS|FAILED/);
    const gets = cloud.cloudfront.requests.filter((q) => q.operation === 'GetInvalidation').length;
    expect(gets).toBeLessThan(25);
  });

  test('a DescribeStacks that hangs fails the Update in time, naming CloudFormation', async () => {
    await start();
    cloud.cloudformation.apiDelayMs = (action) => (action === 'DescribeStacks' ? 200_000 : 0);
    const { answer } = await cloud.request(fn.name, r.update(r.properties({ Trigger: ['stack:0'], TimeoutSeconds: '5' }), r.properties({ TimeoutSeconds: '5' })), ANSWER_WITHIN_MS);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/Could not read the status of stack .*CloudFormation DescribeStacks/);
  });
});

describe('answers that do not go through', () => {
  test('a ResponseURL that answers 500 a few times gets the answer on a later PUT of the same invocation', async () => {
    await start();
    let puts = 0;
    cloud.cloudformation.answerFault = () => (++puts <= 3 ? 'ServerError' : undefined);
    const sent = cloud.send(fn.name, r.create({}));
    await cloud.lambda.idle();
    expect(puts).toBe(4);
    expect(cloud.lambda.invocations.map((i) => i.outcome)).toEqual(['ok']);
    expect(cloud.cloudformation.answers.get(sent.token)!.map((a) => a.answer.Status)).toEqual(['SUCCESS']);
  });

  test.each(['ServerError', 'Drip'] as const)(
    'a ResponseURL that fails (%s) for the whole invocation fails it, and Lambda\'s retry delivers the answer once, creating nothing new',
    async (fault) => {
      await start({ lambdaTimeoutMs: 5000 });
      cloud.cloudformation.answerFault = () => (cloud.lambda.invocations.length < 2 ? fault : undefined);
      const sent = cloud.send(fn.name, r.create({}));
      await cloud.lambda.idle();
      expect(cloud.lambda.invocations[0]).toMatchObject({ outcome: 'error', error: expect.stringContaining('could not deliver the SUCCESS answer') });
      expect(cloud.lambda.invocations.map((i) => i.outcome)).toEqual(['error', 'ok']);
      expect(cloud.cloudformation.answers.get(sent.token)!.map((a) => a.answer.Status)).toEqual(['SUCCESS']);
      expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
    },
  );
});

describe('requests that are not the handler\'s', () => {
  const OTHER_STACK = 'arn:aws:cloudformation:eu-west-1:999999999999:stack/Other/1';

  test.each([
    ['another account\'s stack', { StackId: OTHER_STACK }, `StackId "${OTHER_STACK}" is not this handler's stack`],
    ['an unknown request type', { RequestType: 'Foo' }, 'RequestType "Foo" is not one CloudFormation sends'],
    ['an Update without a physical id', { RequestType: 'Update', OldResourceProperties: {} }, 'an Update needs the resource\'s PhysicalResourceId'],
    ['another resource type', { ResourceType: 'Custom::Other' }, `ResourceType "Custom::Other" is not ${RESOURCE_TYPE}`],
  ])('%s is refused: FAILED, nothing created, a log line', async (_what, overrides, reason) => {
    await start();
    const { answer } = await cloud.request(fn.name, r.request(overrides as never));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain(reason);
    expect(answer.PhysicalResourceId).not.toMatch(/^InvalidateSite-/);
    expect(cloud.cloudfront.invalidations()).toHaveLength(0);
    expect(cloud.lambda.logs()).toContain('refused a request that is not for this handler');
  });

  test.each([['a string', 'hello'], ['a number', 42], ['null', null], ['an object without a ResponseURL', { RequestType: 'Create' }]])(
    '%s is logged and ignored, without an error',
    async (_what, payload) => {
      await start();
      cloud.lambda.invokeAsync(fn.name, payload);
      await cloud.lambda.idle();
      expect(cloud.lambda.invocations.map((i) => i.outcome)).toEqual(['ok']);
      expect(cloud.lambda.logs()).toContain('ignored: neither a CloudFormation custom resource request nor a rollback purge');
    },
  );
});

describe('reasons and logs', () => {
  test('onChangeOf values never reach the logs; a digest stands for them', async () => {
    await start();
    await cloud.request(fn.name, r.create({ Trigger: ['s3cr3t-value-0123'] }));
    expect(cloud.lambda.logs()).not.toContain('s3cr3t-value-0123');
    expect(cloud.lambda.logs()).toMatch(/"Trigger":"sha256:[0-9a-f]{16}"/);
  });

  test('a bad path known only at deploy time fails with a short echo of it and the rule, within one line', async () => {
    await start();
    const long = `/${'a'.repeat(1200)}*${'b'.repeat(100)}`;
    const { answer } = await cloud.request(fn.name, r.create({ Paths: ['/ok', long] }));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/Paths\[1\] "\/a+\.\.\.b+" \(1302 characters\) is not a valid invalidation path: '\*' may only be the last character of a path \(found at character 1202 of 1302\)/);
    expect(answer.Reason!.length).toBeLessThan(400);
  });
});

describe('running out of time before deciding', () => {
  test('a DescribeStacks slower than the invocation hands the undecided request to a fresh invocation, which answers', async () => {
    await start({ lambdaTimeoutMs: 5000 });
    let calls = 0;
    // The first read outlasts the first invocation's working time; the next ones answer at once.
    cloud.cloudformation.apiDelayMs = (action) => (action === 'DescribeStacks' && ++calls === 1 ? 20_000 : 0);
    const { answer } = await cloud.request(fn.name, r.update(r.properties({ Trigger: ['stack:0'] }), r.properties()), ANSWER_WITHIN_MS);
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'Submitted' } });
    expect(cloud.lambda.invocations.map((i) => i.source)).toEqual(['event', 'invoke-api']);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
  });
});

describe('network trouble', () => {
  test('CloudFront out of reach (ECONNREFUSED) is retried until the timeout, and the reason says it could not be reached', async () => {
    await start();
    const emulator = cloud.cloudfront;
    await emulator.close();
    emulator.close = async () => undefined;
    const { answer } = await cloud.request(fn.name, r.create({ TimeoutSeconds: '3' }), ANSWER_WITHIN_MS);
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toMatch(/^Timed out after 3 s: CloudFront has not accepted 1 of 1 batches .*could not reach CloudFront \(ECONNREFUSED/);
  });
});
