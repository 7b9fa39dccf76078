/**
 * The stack's rule that purges after a failed deploy: its pattern and target, the input it hands
 * the handler, and how that input fits EventBridge's limit.
 */
import { CfnParameter, Fn, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as fc from 'fast-check';
import { Invalidation, InvalidationTrigger } from '../../src';
import { fitRollbackTargets, MAX_ID_LENGTH, MAX_INPUT_TEMPLATE_LENGTH, rollbackPurgeTemplate } from '../../src/rollback-targets';
import { normalizePaths } from '../../src/shared/paths';
import { resolve } from '../driver/intrinsics';
import { ENV, importedDistribution, newApp, siteStack } from '../support/synth';
import { inputTemplateLength, only, providerFunctions, ruleInput, unescaped } from '../support/template';

// Every synthesis in this file fails on a deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

describe('rollback rule', () => {
  test('matches this stack\'s status events after a failed deploy, whatever form its id takes, and invokes the handler, retrying for 24 hours into a dead-letter queue', () => {
    const { template } = siteStack();
    const [ruleId, rule] = only(template.findResources('AWS::Events::Rule'));
    const [queueId, queue] = only(template.findResources('AWS::SQS::Queue'));
    const fnId = providerFunctions(template)[0];
    const arn = (tail: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:cloudformation:eu-west-1:123456789012:stack/Site${tail}`]] });
    expect(rule.Properties.EventPattern).toEqual({
      'source': ['aws.cloudformation'],
      'detail-type': ['CloudFormation Stack Status Change'],
      'detail': {
        'stack-id': [{ prefix: arn('/') }, arn(''), 'Site'],
        'status-details': { status: ['UPDATE_ROLLBACK_COMPLETE', 'UPDATE_FAILED', 'CREATE_FAILED'] },
      },
    });
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({
      Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
      RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    })]);
    expect(queue.Properties).toEqual({ MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::Lambda::Function', { DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] } } });
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] } });
    const queuePolicy = JSON.stringify(only(template.findResources('AWS::SQS::QueuePolicy'))[1].Properties);
    expect(queuePolicy).toContain('"aws:SecureTransport":"false"');
    expect(queuePolicy).toContain('"Service":"events.amazonaws.com"');
  });

  test('hands the handler the event\'s id, stack, status and time, and every Invalidation of the stack, equal ones once, paths encoded', () => {
    const { template } = siteStack({
      invalidation: { paths: ['/index.html', '/a"b'] },
      extra: (stack, distribution) => {
        new Invalidation(stack, 'Same', { distribution, paths: ['/a"b', '/index.html'], trigger: InvalidationTrigger.onChangeOf('x') });
        new Invalidation(stack, 'Other', { distribution: importedDistribution(stack, 'EOTHER'), paths: ['#Tag<1>', '/promo<id>.html'] });
        new Invalidation(stack, 'Token', { distribution: importedDistribution(stack, 'ETOKEN'), paths: ['/x', `/${Fn.ref('AWS::AccountId')}/*`] });
        new Invalidation(stack, 'Tenant', { distribution, distributionTenantId: 'dt_1' });
        const list = new CfnParameter(stack, 'PathList', { type: 'CommaDelimitedList' });
        new Invalidation(stack, 'Listed', { distribution: importedDistribution(stack, 'ELISTED'), paths: list.valueAsList });
      },
    });
    const [distributionId] = Object.keys(template.findResources('AWS::CloudFront::Distribution'));
    const input = ruleInput(template);
    const targets = input.rollbackPurge.targets.map((t) => ({ ...t, DistributionId: unescaped(t.DistributionId) }));
    expect({ ...input.rollbackPurge, targets }).toEqual({
      eventId: 'event:$.id',
      stackId: 'event:$.detail.stack-id',
      status: 'event:$.detail.status-details.status',
      time: 'event:$.time',
      targets: [
        { DistributionId: { Ref: distributionId }, Paths: ['/a%22b', '/index.html'] },
        // A literal `<id>` would be a placeholder to EventBridge: it goes encoded, or as \u003c in a tag.
        { DistributionId: 'EOTHER', Paths: ['#tag<1>', '/promo%3Cid%3E.html'] },
        // A path known only at deploy time may hold anything: the distribution is purged whole.
        { DistributionId: 'ETOKEN', Paths: ['/*'] },
        { DistributionId: { Ref: distributionId }, DistributionTenantId: 'dt_1', Paths: ['/*'] },
        { DistributionId: 'ELISTED', Paths: ['/*'] },
      ],
    });
    const [, rule] = only(template.findResources('AWS::Events::Rule'));
    const literalText = (rule.Properties.Targets[0].InputTransformer.InputTemplate['Fn::Join'][1] as unknown[]).filter((p) => typeof p === 'string').join('');
    expect(literalText).toContain('#tag\\u003c1\\u003e');
    expect(literalText).not.toMatch(/<(?!id>|stackId>|status>|time>)/);
  });

  test('is JSON once CloudFormation and EventBridge have filled it in, whatever the paths and deploy-time values hold', () => {
    // Any text but the C0 control characters JSON cannot carry raw (line feeds, carriage returns and tabs are escaped).
    const unit = fc.oneof(fc.constantFrom('"', '\\', '<', '>', '<id>', '\n', '\t', '%', ' ', 'é'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
    const text = fc.array(unit, { minLength: 1, maxLength: 8 }).map((t) => t.join('').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '?'));
    fc.assert(fc.property(text, text, text, (literal, distributionValue, tenantValue) => {
      const stack = new Stack(newApp(), 'Site', { env: ENV });
      const distributionId = new CfnParameter(stack, 'DistributionId').valueAsString;
      const tenantId = new CfnParameter(stack, 'TenantId').valueAsString;
      const literalPath = `/${literal.replace(/\*/g, '')}`;
      const tag = `#${literal.replace(/[^\x21-\x7e]|[,*]/g, '') || 't'}`;
      const targets = fitRollbackTargets(stack, [
        { DistributionId: distributionId, Paths: [literalPath, tag] },
        { DistributionId: distributionId, DistributionTenantId: tenantId, Paths: [`/${tenantId}`] },
      ]);
      const values: Record<string, string> = { DistributionId: distributionValue, TenantId: tenantValue };
      const resolved = resolve(stack.resolve(rollbackPurgeTemplate(targets).text), {
        accountId: '123456789012',
        region: 'eu-west-1',
        partition: 'aws',
        stackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Site/1',
        stackName: 'Site',
        ref: (id: string) => values[id],
        getAtt: () => undefined,
        importValue: () => undefined,
      } as never) as string;
      expect(resolved.length).toBeLessThanOrEqual(MAX_INPUT_TEMPLATE_LENGTH);
      // EventBridge fills in the placeholders it knows, and nothing else.
      const event: Record<string, string> = { id: 'ev-1', stackId: 'Site', status: 'UPDATE_ROLLBACK_COMPLETE', time: '2026-12-04T00:00:00Z' };
      const input = JSON.parse(resolved.replace(/<([A-Za-z0-9_.-]+)>/g, (whole, name: string) => (name in event ? JSON.stringify(event[name]) : whole)));
      expect(input.rollbackPurge.eventId).toBe('ev-1');
      expect(input.rollbackPurge.targets).toEqual([
        { DistributionId: distributionValue, Paths: normalizePaths([literalPath, tag]) },
        { DistributionId: distributionValue, DistributionTenantId: tenantValue, Paths: ['/*'] },
      ]);
    }), { numRuns: 200 });
  });

  test('says at synth, once per stack, what a failed first deploy and a hotswap leave unpurged', () => {
    const { stack } = siteStack({ extra: (st, distribution) => new Invalidation(st, 'Second', { distribution, paths: ['/x'] }) });
    const notes = Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('first adds an Invalidation'));
    expect(notes.map((n) => n.id)).toEqual(['/Site/CloudFrontInvalidationProvider']);
    expect(String(notes[0].entry.data)).toMatch(/rollback removes the handler.*README, "Limitations".*--hotswap/);
  });

  test('names a distribution of another stack through its export', () => {
    const app = newApp();
    const sites = new Stack(app, 'Sites', { env: ENV });
    const distribution = new cloudfront.Distribution(sites, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(new s3.Bucket(sites, 'Bucket')) } });
    const deploys = new Stack(app, 'Deploys', { env: ENV });
    new Invalidation(deploys, 'Invalidate', { distribution });
    const targets = ruleInput(Template.fromStack(deploys)).rollbackPurge.targets;
    expect(targets.map((t) => ({ ...t, DistributionId: unescaped(t.DistributionId) })))
      .toEqual([{ DistributionId: { 'Fn::ImportValue': expect.stringMatching(/Distribution/) }, Paths: ['/*'] }]);
  });

  test('fits EventBridge\'s 8192 characters by purging the longest path lists whole', () => {
    const pathsOf = (name: string, n: number) => Array.from({ length: n }, (_, i) => `/${name}/${'x'.repeat(90)}/${i}`).sort();
    const { template } = siteStack({
      invalidation: false,
      extra: (stack) => {
        new Invalidation(stack, 'Short', { distribution: importedDistribution(stack, 'ESHORT'), paths: pathsOf('short', 5) });
        new Invalidation(stack, 'Long', { distribution: importedDistribution(stack, 'ELONG'), paths: pathsOf('long', 50) });
        new Invalidation(stack, 'Medium', { distribution: importedDistribution(stack, 'EMEDIUM'), paths: pathsOf('medium', 30) });
      },
    });
    const targets = ruleInput(template).rollbackPurge.targets;
    expect(targets).toEqual([
      { DistributionId: 'ESHORT', Paths: pathsOf('short', 5) },
      { DistributionId: 'ELONG', Paths: ['/*'] },
      { DistributionId: 'EMEDIUM', Paths: pathsOf('medium', 30) },
    ]);
    const length = inputTemplateLength(template);
    expect(length).toBeLessThanOrEqual(MAX_INPUT_TEMPLATE_LENGTH);
    // Without the longest list it would not fit: the budget is used, not wasted.
    expect(length + 50 * 100).toBeGreaterThan(MAX_INPUT_TEMPLATE_LENGTH);
  });

  test('counts literal text exactly and a deploy-time id as its most, so that what fits at synth fits at deploy', () => {
    const { template } = siteStack({ invalidation: false, extra: (stack) => new Invalidation(stack, 'P', { distribution: importedDistribution(stack, 'E1'), paths: ['/a', '/b"c<d>'] }) });
    const exact = inputTemplateLength(template);
    expect(rollbackPurgeTemplate([{ DistributionId: 'E1', Paths: normalizePaths(['/a', '/b"c<d>']) }]).length).toBe(exact);
    const stack = new Stack(newApp());
    const withToken = rollbackPurgeTemplate([{ DistributionId: new CfnParameter(stack, 'D').valueAsString, Paths: normalizePaths(['/a', '/b"c<d>']) }]);
    expect(withToken.length - exact).toBe(MAX_ID_LENGTH - 'E1'.length);
  });

  test('100 path parameters of 90 characters, which would pass 8192 characters once resolved, purge their distributions whole', () => {
    const { template } = siteStack({
      invalidation: false,
      extra: (stack) => {
        for (let i = 0; i < 100; i++) {
          const value = new CfnParameter(stack, `Path${i}`, { default: `/${'p'.repeat(89)}` }).valueAsString;
          new Invalidation(stack, `P${i}`, { distribution: importedDistribution(stack, `E${String(i).padStart(13, '0')}`), paths: [value], trigger: InvalidationTrigger.onChangeOf('x') });
        }
      },
    });
    expect(inputTemplateLength(template)).toBeLessThanOrEqual(MAX_INPUT_TEMPLATE_LENGTH);
    expect(ruleInput(template).rollbackPurge.targets.every((t) => JSON.stringify(t.Paths) === '["/*"]')).toBe(true);
  });
  test('once a distribution is purged whole, its other path lists go from the rule', () => {
    const { template } = siteStack({
      invalidation: false,
      extra: (stack) => {
        const distribution = importedDistribution(stack, 'ESAME');
        for (let i = 0; i < 60; i++) {
          new Invalidation(stack, `Section${i}`, { distribution, paths: [`/s${String(i).padStart(2, '0')}/${'x'.repeat(150)}`] });
        }
      },
    });
    const targets = ruleInput(template).rollbackPurge.targets;
    expect(inputTemplateLength(template)).toBeLessThanOrEqual(MAX_INPUT_TEMPLATE_LENGTH);
    expect(new Set(targets.map((t) => JSON.stringify(t))).size).toBe(targets.length);
    expect(targets.filter((t) => t.Paths[0] === '/*')).toEqual([{ DistributionId: 'ESAME', Paths: ['/*'] }]);
    // The first (longest, in order) went whole, and as few others as needed went with it.
    expect(targets[0]).toEqual({ DistributionId: 'ESAME', Paths: ['/*'] });
    expect(targets.length).toBeGreaterThan(30);
  });

  test('refuses at synth, naming the stack and the count, Invalidations that do not fit even purging everything', () => {
    expect(() => siteStack({
      invalidation: false,
      extra: (stack) => {
        for (let i = 0; i < 200; i++) {
          new Invalidation(stack, `Purge${i}`, { distribution: importedDistribution(stack, `E${String(i).padStart(13, '0')}`) });
        }
      },
    })).toThrow(/Stack Site: the rule that purges caches after a failed deploy must list the 200 Invalidations of the stack \(200 distinct/);
  });
});
