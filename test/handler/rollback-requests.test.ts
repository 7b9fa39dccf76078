/**
 * What the bundled handler does with CloudFormation's requests during a rollback: an Update purges
 * nothing (the stack's rule purges once the rollback is complete), a Delete in the rollback's
 * cleanup purges before it answers, any other Delete purges nothing. Real bundle, real SDK,
 * CloudFront emulator; requests made by hand with the stack status set for them.
 */
import { SITE, STACK_ID } from '../driver/handler-fixture';
import type { LocalCloud } from '../driver/local-cloud';
import { handlerCloudPerTest } from '../support/handler-cloud';
import type { InvalidationRequests } from '../support/requests';

let cloud: LocalCloud;
let fn: { name: string; arn: string };
let r: InvalidationRequests;
const start = handlerCloudPerTest((started) => ({ cloud, fn, r } = started));
beforeEach(() => start());

const setStatus = (status: string) => cloud.cloudformation.setStackStatus(STACK_ID, 'HandlerTest', status);
const deleteOf = () => r.request({ RequestType: 'Delete', PhysicalResourceId: 'InvalidateSite-abc', ResourceProperties: r.properties({ Paths: ['/v2/*'] }) });

describe('requests during a rollback', () => {
  test('an Update of a rollback purges nothing and answers the ids of the deploy rolled back to', async () => {
    const restored = r.properties({ Trigger: ['stack:1'] });
    const { answer: created } = await cloud.request(fn.name, r.create({ Trigger: ['stack:1'] }));
    setStatus('UPDATE_ROLLBACK_IN_PROGRESS');
    const { answer } = await cloud.request(fn.name, r.update(r.properties({ Trigger: ['stack:2'] }), restored));
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'RolledBack', InvalidationId: created.Data!.InvalidationId } });
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
  });

  test('an Update fails, naming the stack, when its status cannot be read within its timeout (IAM denies it): it may be a rollback\'s', async () => {
    const allow = cloud.authorizer;
    cloud.authorizer = (action, arn) => action !== 'cloudformation:DescribeStacks' && allow(action, arn);
    // A denial may be a policy not applied yet: it is read again until the timeout.
    const { answer } = await cloud.request(fn.name, r.update(r.properties({ Trigger: ['stack:2'], TimeoutSeconds: '3' }), r.properties({ TimeoutSeconds: '3' })));
    expect(answer.Status).toBe('FAILED');
    expect(answer.Reason).toContain(`Could not read the status of stack ${STACK_ID} (CloudFormation DescribeStacks AccessDenied`);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(0);
  });

  test('a Delete in the rollback\'s cleanup submits its purge before it answers', async () => {
    setStatus('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    const { answer, at } = await cloud.request(fn.name, deleteOf());
    expect(answer).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'InvalidateSite-abc', Data: { Status: 'Deleted' } });
    const [purge] = cloud.cloudfront.invalidations(SITE);
    expect(purge.paths).toEqual(['/v2/*']);
    expect(cloud.cloudfront.requests.find((q) => q.created === purge.id)!.at).toBeLessThan(at);
  });

  test('a cleanup Delete killed right after its CreateInvalidation: Lambda\'s retry answers, and creates nothing new', async () => {
    setStatus('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    cloud.cloudfront.onRequest((q) => {
      if (q.created) {
        cloud.lambda.crash(fn.name);
      }
    });
    const sent = cloud.send(fn.name, deleteOf());
    await cloud.lambda.idle();
    expect(cloud.lambda.invocations.map((i) => i.outcome)).toEqual(['crash', 'ok']);
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(1);
    expect(cloud.cloudformation.answers.get(sent.token)!.map((a) => a.answer.Status)).toEqual(['SUCCESS']);
  });

  test('a late Delete of an earlier resource with the same logical id, while the new one is deleted in a cleanup, purges nothing', async () => {
    setStatus('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    // The resource CloudFormation is deleting now is another one than the Delete names.
    cloud.physicalIds = () => 'InvalidateSite-new';
    cloud.resourceStatuses = () => 'DELETE_IN_PROGRESS';
    const { answer } = await cloud.request(fn.name, deleteOf());
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'Deleted' } });
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(0);
    expect(cloud.lambda.logs()).toContain('"otherResource":true');
  });

  test.each(['DELETE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS'])('a Delete while the stack is %s purges nothing', async (status) => {
    setStatus(status);
    const { answer } = await cloud.request(fn.name, deleteOf());
    expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'Deleted' } });
    expect(cloud.cloudfront.invalidations(SITE)).toHaveLength(0);
  });
});
