import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnCondition, CfnOutput, CfnParameter, CfnResource, Duration, Fn, Lazy, NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { AppProps } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as fc from 'fast-check';
import { Invalidation, InvalidationPaths, InvalidationTrigger } from '../../src';
import type { InvalidationProps } from '../../src';
import * as fingerprints from '../../src/fingerprint';
import * as render from '../../src/render';
import { fitRollbackTargets, MAX_ID_LENGTH, MAX_INPUT_TEMPLATE_LENGTH, rollbackPurgeTemplate } from '../../src/rollback-targets';
import { normalizePaths } from '../../src/shared/paths';
import { resolve } from '../driver/intrinsics';

// Every synthesis in this file fails on a deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

const ENV = { account: '123456789012', region: 'eu-west-1' };

// One cloud assembly directory for the whole file: every app stages the same assets (the AWS CLI
// layer alone is 22 MB), which land there once instead of once per synthesis.
const OUTDIR = fs.mkdtempSync(path.join(os.tmpdir(), 'invalidation-test-'));
afterAll(() => fs.rmSync(OUTDIR, { recursive: true, force: true }));

function newApp(props: AppProps = {}): App {
  return new App({ outdir: OUTDIR, ...props });
}
/** What `cdk synth` sets: path and asset metadata, and the CDK metadata resource. */
const CLI_CONTEXT = { 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:version-reporting': true };

type Resources = Record<string, { Type: string; Properties?: any; DependsOn?: string[]; Metadata?: Record<string, unknown> }>;

interface SiteOptions {
  readonly content?: string;
  /** Props of the Invalidation, or false for a site without one. */
  readonly invalidation?: Partial<InvalidationProps> | false;
  readonly app?: App;
  readonly extra?: (stack: Stack, distribution: cloudfront.Distribution, deployment: s3deploy.BucketDeployment) => void;
}

function siteStack(options: SiteOptions = {}) {
  const app = options.app ?? newApp();
  const stack = new Stack(app, 'Site', { env: ENV });
  const bucket = new s3.Bucket(stack, 'Bucket');
  const distribution = new cloudfront.Distribution(stack, 'Distribution', {
    defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) },
  });
  const deployment = new s3deploy.BucketDeployment(stack, 'Deploy', {
    sources: [s3deploy.Source.data('index.html', options.content ?? '<h1>v1</h1>')],
    destinationBucket: bucket,
  });
  const invalidation = options.invalidation === false ? undefined : new Invalidation(stack, 'Invalidate', { distribution, ...options.invalidation });
  options.extra?.(stack, distribution, deployment);
  return { app, stack, distribution, deployment, invalidation, template: Template.fromStack(stack) };
}

function resourcesOf(template: Template): Resources {
  return template.toJSON().Resources;
}

function invalidationResources(template: Template) {
  return template.findResources('Custom::CloudFrontInvalidation');
}

function only<T>(record: Record<string, T>): [string, T] {
  const entries = Object.entries(record);
  expect(entries).toHaveLength(1);
  return entries[0];
}

function byPrefix(template: Template, prefix: string): [string, Resources[string]] {
  return only(Object.fromEntries(Object.entries(resourcesOf(template)).filter(([id]) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id))));
}

function triggerOf(template: Template): unknown[] {
  return (only(invalidationResources(template))[1] as { Properties: { Trigger: unknown[] } }).Properties.Trigger;
}

function providerFunctions(template: Template) {
  return Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('CloudFrontInvalidationProvider'));
}

function anchorOf(template: Template): [string, Resources[string]] {
  return only(template.findResources('AWS::CloudFormation::WaitConditionHandle') as Resources);
}

function policyIdOf(template: Template): string {
  return byPrefix(template, 'CloudFrontInvalidationProviderPermissions')[0];
}

/** Logical ids a definition refers to through Ref, Fn::GetAtt, Fn::Sub and DependsOn. */
function references(definition: unknown): Set<string> {
  const ids = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'Ref' && typeof value === 'string') {
          ids.add(value);
        } else if (key === 'Fn::GetAtt') {
          ids.add(Array.isArray(value) ? value[0] : String(value).split('.')[0]);
        } else if (key === 'Fn::Sub') {
          const text = Array.isArray(value) ? value[0] : value;
          for (const m of String(text).matchAll(/\$\{([^!}][^}.]*)/g)) {
            ids.add(m[1]);
          }
        } else if (key === 'DependsOn') {
          (Array.isArray(value) ? value : [value]).forEach((v) => ids.add(v));
        }
        visit(value);
      }
    }
  };
  visit(definition);
  return ids;
}

/** The resources of a template in an order CloudFormation could deploy them; fails on a cycle. */
function deployOrder(resources: Resources): string[] {
  const needs = new Map(Object.entries(resources).map(([id, r]) => [id, [...references(r)].filter((t) => t in resources && t !== id)]));
  const order: string[] = [];
  const done = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const [id, targets] of needs) {
      if (!done.has(id) && targets.every((t) => done.has(t))) {
        done.add(id);
        order.push(id);
        progress = true;
      }
    }
  }
  const stuck = [...needs.keys()].filter((id) => !done.has(id));
  expect({ inACycle: stuck }).toEqual({ inACycle: [] });
  return order;
}

/** The rule target's input as the handler receives it: event fields filled in, intrinsics kept. */
function ruleInput(template: Template): { rollbackPurge: { eventId: string; stackId: string; status: string; time: string; targets: any[] } } {
  const [, rule] = only(template.findResources('AWS::Events::Rule'));
  const transformer = rule.Properties.Targets[0].InputTransformer;
  const inputTemplate = transformer.InputTemplate;
  const parts: unknown[] = typeof inputTemplate === 'string' ? [inputTemplate] : inputTemplate['Fn::Join'][1];
  const intrinsics: unknown[] = [];
  let text = parts.map((p) => (typeof p === 'string' ? p : `@@${intrinsics.push(p) - 1}@@`)).join('');
  for (const [key, jsonPath] of Object.entries(transformer.InputPathsMap as Record<string, string>)) {
    text = text.split(`<${key}>`).join(JSON.stringify(`event:${jsonPath}`));
  }
  return JSON.parse(text, (_key, value) => {
    const whole = typeof value === 'string' ? /^@@(\d+)@@$/.exec(value) : null;
    return whole ? intrinsics[Number(whole[1])] : value;
  });
}

/** The value inside the Fn::Split and Fn::Join chain that escapes a deploy-time value for the rule's input. */
function unescaped(value: unknown): unknown {
  let v = value as { 'Fn::Join'?: [string, { 'Fn::Split'?: [string, unknown] }] };
  while (v && typeof v === 'object' && v['Fn::Join']?.[1]?.['Fn::Split']) {
    v = v['Fn::Join'][1]['Fn::Split']![1] as typeof v;
  }
  return v;
}

function inputTemplateLength(template: Template): number {
  const [, rule] = only(template.findResources('AWS::Events::Rule'));
  const inputTemplate = rule.Properties.Targets[0].InputTransformer.InputTemplate;
  expect(typeof inputTemplate).toBe('string');
  return inputTemplate.length;
}

function imported(stack: Stack, id: string) {
  return cloudfront.Distribution.fromDistributionAttributes(stack, id, { distributionId: id, domainName: 'x.cloudfront.net' });
}

describe('resource', () => {
  test('is a Custom::CloudFrontInvalidation with the distribution, paths and settings, and a ServiceTimeout that fits the wait', () => {
    const { template } = siteStack({ invalidation: { paths: ['/index.html', '/assets/*'], timeout: Duration.minutes(10), waitForCompletion: true } });
    template.hasResourceProperties('Custom::CloudFrontInvalidation', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CloudFrontInvalidationProviderHandler'), 'Arn'] },
      DistributionId: { Ref: Match.stringLikeRegexp('^Distribution') },
      Paths: ['/index.html', '/assets/*'],
      WaitForCompletion: 'true',
      TimeoutSeconds: '600',
      FailOnTimeout: 'true',
      ServiceTimeout: '720',
      Trigger: [Match.stringLikeRegexp('^stack:[0-9a-f]{64}$')],
    });
    expect(JSON.stringify(only(invalidationResources(template))[1].Properties)).not.toMatch(/RollbackGuard|LogicalId/);
  });

  test('defaults to /*, no waiting and a 30-minute budget', () => {
    const { template } = siteStack();
    template.hasResourceProperties('Custom::CloudFrontInvalidation', {
      Paths: ['/*'],
      WaitForCompletion: 'false',
      TimeoutSeconds: '1800',
      ServiceTimeout: '1920',
    });
  });

  test('exposes the invalidation ids, CallerReference and warning as attributes', () => {
    const { stack, invalidation } = siteStack();
    const id = only(invalidationResources(Template.fromStack(stack)))[0];
    expect(stack.resolve(invalidation!.invalidationId)).toEqual({ 'Fn::GetAtt': [id, 'InvalidationId'] });
    expect(stack.resolve(invalidation!.invalidationIds)).toEqual({ 'Fn::GetAtt': [id, 'InvalidationIds'] });
    expect(stack.resolve(invalidation!.callerReference)).toEqual({ 'Fn::GetAtt': [id, 'CallerReference'] });
    expect(stack.resolve(invalidation!.warning)).toEqual({ 'Fn::GetAtt': [id, 'Warning'] });
  });

  test('runs on the newest Node.js runtime aws-cdk-lib knows (22 at the floor), arm64, and knows the stack it serves', () => {
    const { template } = siteStack();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 900,
      Environment: { Variables: { INVALIDATION_STACK_ID: { Ref: 'AWS::StackId' } } },
    });
  });
});

describe('the user\'s resources stay as they were', () => {
  function site(invalidation: Partial<InvalidationProps> | false) {
    return siteStack({
      app: newApp({ context: CLI_CONTEXT }),
      invalidation,
      extra: (stack, distribution) => {
        const fn = new lambda.Function(stack, 'Api', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.h', code: lambda.Code.fromInline('exports.h=1') });
        new CfnOutput(stack, 'Domain', { value: distribution.distributionDomainName });
        new CfnParameter(stack, 'Version');
        fn.addEnvironment('SITE', distribution.distributionId);
      },
    }).template.toJSON();
  }

  test.each<[string, Partial<InvalidationProps>]>([
    ['onStackChange', {}],
    ['onChangeOf', { trigger: InvalidationTrigger.onChangeOf('v1') }],
    ['executeAfterStack: false', { trigger: InvalidationTrigger.onChangeOf('v1'), executeAfterStack: false, waitForCompletion: true }],
  ])('adding an Invalidation (%s) changes only the library\'s own resources', (_name, props) => {
    const before = site(false);
    const after = site(props);
    for (const section of Object.keys({ ...before, ...after }).filter((s) => s !== 'Resources')) {
      expect([section, after[section]]).toEqual([section, before[section]]);
    }
    for (const [id, resource] of Object.entries(before.Resources as Resources)) {
      if (resource.Type !== 'AWS::CDK::Metadata') {
        expect([id, after.Resources[id]]).toEqual([id, resource]);
      }
    }
    const added = Object.entries(after.Resources as Resources).filter(([id]) => !(id in before.Resources));
    expect(added.map(([, r]) => String(r.Metadata?.['aws:cdk:path']).replace(/^Site\/(Invalidate|CloudFrontInvalidationProvider)\/.*/, 'library')))
      .toEqual(added.map(() => 'library'));
  });

  test('a stack with the library has a fixed set of resources, plus one per Invalidation', () => {
    const count = (n: number) => {
      const { template } = siteStack({
        invalidation: false,
        extra: (stack, distribution) => {
          for (let i = 0; i < n; i++) {
            new Invalidation(stack, `Purge${i}`, { distribution, paths: [`/section${i}/*`] });
          }
        },
      });
      return Object.keys(resourcesOf(template)).length;
    };
    const [none, one, two, five] = [count(0), count(1), count(2), count(5)];
    // Role, its default policy, the policy, log group, function, dead-letter queue and its policy,
    // anchor, rule and its permission to invoke the function; and the Invalidation.
    expect(one - none).toBe(11);
    expect([two - one, five - one]).toEqual([1, 4]);
  });
});

describe('template size on a 400-resource stack', () => {
  function templateBytes(invalidations: number): number {
    const app = newApp({ context: CLI_CONTEXT });
    const stack = new Stack(app, 'Site', { env: ENV });
    for (let i = 0; i < 400; i++) {
      new sqs.Queue(stack, `Queue${i}`);
    }
    const bucket = new s3.Bucket(stack, 'Bucket');
    const distribution = new cloudfront.Distribution(stack, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new s3deploy.BucketDeployment(stack, 'Deploy', { sources: [s3deploy.Source.data('index.html', '<h1>v1</h1>')], destinationBucket: bucket });
    for (let i = 0; i < invalidations; i++) {
      new Invalidation(stack, `Purge${i}`, { distribution, paths: [`/section${i}/*`] });
    }
    // The template file as `cdk synth` writes it (pretty-printed).
    return fs.statSync(app.synth().getStackByName('Site').templateFullPath).size;
  }

  test('the first Invalidation adds at most 25 KB, each further one at most 4 KB', () => {
    const [none, one, two, eleven] = [templateBytes(0), templateBytes(1), templateBytes(2), templateBytes(11)];
    expect(one - none).toBeLessThanOrEqual(25 * 1024);
    expect(two - one).toBeLessThanOrEqual(4 * 1024);
    expect(eleven - one).toBeLessThanOrEqual(10 * 4 * 1024);
  });
});

describe('handler settings', () => {
  function logGroup(template: Template) {
    return only(template.findResources('AWS::Logs::LogGroup'))[1];
  }

  test('by default the log group keeps a year of logs and stays after the stack is deleted', () => {
    const group = logGroup(siteStack().template);
    expect([group.Properties.RetentionInDays, group.DeletionPolicy, group.UpdateReplacePolicy]).toEqual([365, 'Retain', 'Retain']);
  });

  test('configureHandler before the first Invalidation applies when the handler is created', () => {
    const app = newApp();
    const stack = new Stack(app, 'Site', { env: ENV });
    Invalidation.configureHandler(stack, { logRetention: logs.RetentionDays.ONE_WEEK });
    Invalidation.configureHandler(stack, { logRemovalPolicy: RemovalPolicy.DESTROY });
    expect(stack.node.tryFindChild('CloudFrontInvalidationProvider')).toBeUndefined();
    new Invalidation(stack, 'Purge', { distribution: imported(stack, 'E1') });
    const group = logGroup(Template.fromStack(stack));
    expect([group.Properties.RetentionInDays, group.DeletionPolicy, group.UpdateReplacePolicy]).toEqual([7, 'Delete', 'Delete']);
  });

  test('configureHandler after the first Invalidation changes the existing log group, from any construct of the stack', () => {
    const { template } = siteStack({
      extra: (_stack, distribution) => {
        Invalidation.configureHandler(distribution, { logRetention: logs.RetentionDays.INFINITE, logRemovalPolicy: RemovalPolicy.DESTROY });
      },
    });
    const group = logGroup(template);
    expect([group.Properties?.RetentionInDays, group.DeletionPolicy]).toEqual([undefined, 'Delete']);
  });

  test('configureHandler refuses RemovalPolicy.SNAPSHOT, naming the setting', () => {
    const stack = new Stack(newApp(), 'Site');
    expect(() => Invalidation.configureHandler(stack, { logRemovalPolicy: RemovalPolicy.SNAPSHOT })).toThrow(/logRemovalPolicy is RemovalPolicy.SNAPSHOT/);
  });

  test('a nested stack has a handler, and settings, of its own', () => {
    const app = newApp();
    const parent = new Stack(app, 'Parent', { env: ENV });
    const nested = new NestedStack(parent, 'Nested');
    Invalidation.configureHandler(nested, { logRetention: logs.RetentionDays.ONE_DAY });
    new Invalidation(parent, 'Purge', { distribution: imported(parent, 'E1') });
    new Invalidation(nested, 'Purge', { distribution: imported(nested, 'E2') });
    expect(logGroup(Template.fromStack(parent)).Properties.RetentionInDays).toBe(365);
    expect(logGroup(Template.fromStack(nested)).Properties.RetentionInDays).toBe(1);
  });
});

describe('one handler per stack', () => {
  test('three Invalidations share one function, one role, one policy, one anchor and one rule', () => {
    const { template } = siteStack({
      extra: (stack, distribution) => {
        new Invalidation(stack, 'Second', { distribution, paths: ['/a'] });
        new Invalidation(stack, 'Third', { distribution, paths: ['/b'], trigger: InvalidationTrigger.onChangeOf('x') });
      },
    });
    expect(Object.keys(invalidationResources(template))).toHaveLength(3);
    expect(providerFunctions(template)).toHaveLength(1);
    expect(Object.keys(template.findResources('AWS::Events::Rule'))).toHaveLength(1);
    expect(Object.keys(template.findResources('AWS::SQS::Queue'))).toHaveLength(1);
    anchorOf(template);
    const tokens = new Set(Object.values(invalidationResources(template)).map((r) => JSON.stringify(r.Properties.ServiceToken)));
    expect(tokens.size).toBe(1);
  });

  test('two stacks get a handler each', () => {
    const app = newApp();
    const stacks = ['One', 'Two'].map((name) => {
      const stack = new Stack(app, name, { env: ENV });
      new Invalidation(stack, 'Invalidate', { distribution: imported(stack, `E${name.toUpperCase()}`) });
      return stack;
    });
    for (const stack of stacks) {
      expect(providerFunctions(Template.fromStack(stack))).toHaveLength(1);
    }
  });
});

describe('IAM', () => {
  function statements(template: Template): Array<{ Action: string | string[]; Resource: unknown }> {
    return Object.values(template.findResources('AWS::IAM::ManagedPolicy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('CloudFrontInvalidationProvider'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
  }

  test('puts every permission of the handler in customer managed policies, none inline', () => {
    const { template } = siteStack();
    const handlerRole = (r: { Properties?: { Roles?: unknown } }) => JSON.stringify(r.Properties?.Roles ?? []).includes('CloudFrontInvalidationProvider');
    expect(Object.values(template.findResources('AWS::IAM::Policy')).filter(handlerRole)).toEqual([]);
    expect(Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter(handlerRole)).toHaveLength(2);
    const [, role] = byPrefix(template, 'CloudFrontInvalidationProviderRole');
    expect(role.Properties.Policies).toBeUndefined();
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('the function waits for the policy that lets it write its logs and dead letters (Lambda checks the queue when it creates it)', () => {
    const { template } = siteStack();
    const [executionId, execution] = byPrefix(template, 'CloudFrontInvalidationProviderExecutionPolicy');
    const fn = template.findResources('AWS::Lambda::Function')[providerFunctions(template)[0]];
    expect(fn.DependsOn).toContain(executionId);
    expect(JSON.stringify(execution.Properties.PolicyDocument)).toContain('sqs:SendMessage');
    expect(JSON.stringify(execution.Properties.PolicyDocument)).toContain('logs:PutLogEvents');
  });

  test('grants the CloudFront invalidation actions on the distributions and tenants of the stack\'s account, whatever the template names, never on *', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const other = imported(stack, 'EIMPORTED');
        new Invalidation(stack, 'Second', { distribution: other });
        new Invalidation(stack, 'Third', { distribution: other, paths: ['/x'], distributionTenantId: 'dt_1' });
      },
    });
    const cloudfrontStatements = statements(template).filter((s) => JSON.stringify(s.Action).includes('cloudfront:'));
    const arn = (resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:cloudfront::123456789012:${resource}`]] });
    expect(cloudfrontStatements).toEqual([{
      Action: [
        'cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation', 'cloudfront:ListInvalidations',
        'cloudfront:CreateInvalidationForDistributionTenant', 'cloudfront:GetInvalidationForDistributionTenant', 'cloudfront:ListInvalidationsForDistributionTenant',
      ],
      Effect: 'Allow',
      Resource: [arn('distribution/*'), arn('distribution-tenant/*')],
    }]);
    expect(JSON.stringify(statements(template))).not.toContain('"*"');
    // The same policy with or without Invalidations of other distributions: a rollback never takes a grant away.
    const plain = siteStack().template;
    expect(statements(plain).filter((s) => JSON.stringify(s.Action).includes('cloudfront:'))).toEqual(cloudfrontStatements);
  });

  test('lets the handler start itself again and read only its own stack and its events', () => {
    const { template } = siteStack();
    const fnId = providerFunctions(template)[0];
    expect(statements(template)).toEqual(expect.arrayContaining([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [fnId, 'Arn'] } },
      {
        Action: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource', 'cloudformation:DescribeStackEvents'],
        Effect: 'Allow',
        Resource: { Ref: 'AWS::StackId' },
      },
    ]));
  });

  test('lets the handler, and only it, write to its dead-letter queue', () => {
    const { template } = siteStack();
    const [queueId] = only(template.findResources('AWS::SQS::Queue'));
    expect(statements(template)).toEqual(expect.arrayContaining([
      { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } },
    ]));
  });

  test('the invalidation waits for the handler\'s policy, and the function does not (no cycle)', () => {
    const { template } = siteStack();
    const policyId = policyIdOf(template);
    const [, invalidation] = only(invalidationResources(template));
    expect(invalidation.DependsOn).toContain(policyId);
    const fn = template.findResources('AWS::Lambda::Function')[providerFunctions(template)[0]];
    expect(fn.DependsOn ?? []).not.toContain(policyId);
  });

  test('a permissions boundary on the stack\'s roles makes no cycle', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const boundary = new iam.ManagedPolicy(stack, 'Boundary', { statements: [new iam.PolicyStatement({ actions: ['s3:*', 'cloudfront:*'], resources: ['*'] })] });
        iam.PermissionsBoundary.of(stack).apply(boundary);
      },
    });
    const [boundaryId] = byPrefix(template, 'Boundary');
    template.hasResourceProperties('AWS::IAM::Role', { PermissionsBoundary: { Ref: boundaryId } });
    expect(anchorOf(template)[1].DependsOn).toContain(boundaryId);
    deployOrder(resourcesOf(template));
  });
});

describe('anchor', () => {
  test('depends on every other resource of the stack, leaving out the library\'s machinery and CDK metadata', () => {
    const { template } = siteStack({ app: newApp({ context: CLI_CONTEXT }) });
    const resources = resourcesOf(template);
    const [anchorId, anchor] = anchorOf(template);
    const library = (id: string) => /^Site\/(Invalidate|CloudFrontInvalidationProvider)\//.test(String(resources[id].Metadata?.['aws:cdk:path']));
    const expected = Object.keys(resources).filter((id) => !library(id) && resources[id].Type !== 'AWS::CDK::Metadata');
    expect(Object.values(resources).some((r) => r.Type === 'AWS::CDK::Metadata')).toBe(true);
    expect(expected.some((id) => id.startsWith('DeployCustomResource'))).toBe(true);
    expect(anchor.DependsOn).toEqual([...expected].sort());
    expect(Object.keys(anchor)).toEqual(expect.not.arrayContaining(['Properties']));
    expect(library(anchorId)).toBe(true);
  });

  test('leaves out what depends on an invalidation, directly or not, so there is no cycle', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const inv = stack.node.findChild('Invalidate') as Invalidation;
        const last = new ssm.StringParameter(stack, 'LastInvalidation', { stringValue: inv.invalidationId });
        new ssm.StringParameter(stack, 'AfterLast', { stringValue: 'x' }).node.addDependency(last);
        new ssm.StringParameter(stack, 'Unrelated', { stringValue: 'y' });
      },
    });
    const [, anchor] = anchorOf(template);
    const ids = (prefix: string) => byPrefix(template, prefix)[0];
    expect(anchor.DependsOn).not.toContain(ids('LastInvalidation'));
    expect(anchor.DependsOn).not.toContain(ids('AfterLast'));
    expect(anchor.DependsOn).toContain(ids('Unrelated'));
    deployOrder(resourcesOf(template));
  });

  test('names resources with a Condition in a conditional Ref of its Metadata, not in DependsOn (refused when the condition is false); their changes fire it', () => {
    const withQueue = (retention: number) => siteStack({
      extra: (stack) => {
        const queue = new sqs.Queue(stack, 'Optional', { retentionPeriod: Duration.days(retention) });
        (queue.node.defaultChild as CfnResource).cfnOptions.condition = new CfnCondition(stack, 'Never', { expression: Fn.conditionEquals('a', 'b') });
      },
    }).template;
    const template = withQueue(4);
    const [queueId] = Object.keys(template.findResources('AWS::SQS::Queue', { Condition: 'Never' }));
    expect(anchorOf(template)[1].DependsOn).not.toContain(queueId);
    expect(anchorOf(template)[1].DependsOn!.length).toBeGreaterThan(0);
    expect(anchorOf(template)[1].Metadata).toEqual({
      'cdk-cloudfront-invalidation:conditionalDependsOn': { [queueId]: { 'Fn::If': ['Never', { Ref: queueId }, { Ref: 'AWS::NoValue' }] } },
    });
    expect(anchorOf(siteStack().template)[1].Metadata).toBeUndefined();
    expect(triggerOf(withQueue(5))).not.toEqual(triggerOf(template));
  });

  test('has no DependsOn when the stack holds nothing else', () => {
    const stack = new Stack(newApp(), 'Bare', { env: ENV });
    new Invalidation(stack, 'Purge', { distribution: imported(stack, 'E1') });
    expect(anchorOf(Template.fromStack(stack))[1].DependsOn).toBeUndefined();
  });

  test('every Invalidation depends on the anchor and the policy, not on each other nor on the user\'s resources', () => {
    const { template } = siteStack({
      extra: (stack, distribution) => {
        new Invalidation(stack, 'Second', { distribution, paths: ['/a'] });
        new Invalidation(stack, 'Third', { distribution, paths: ['/b'], trigger: InvalidationTrigger.onChangeOf('x') });
      },
    });
    const [anchorId] = anchorOf(template);
    for (const r of Object.values(invalidationResources(template))) {
      expect([...r.DependsOn].sort()).toEqual([anchorId, policyIdOf(template)].sort());
    }
  });
});

describe('ordering', () => {
  function dependsOnOf(template: Template, prefix = 'Invalidate') {
    return byPrefix(template, prefix)[1].DependsOn ?? [];
  }

  test('onChangeOf runs after the rest of the stack by default, so after the BucketDeployment\'s copy', () => {
    const { template } = siteStack({ invalidation: { trigger: InvalidationTrigger.onChangeOf('v1') } });
    const [anchorId, anchor] = anchorOf(template);
    expect(dependsOnOf(template)).toContain(anchorId);
    expect(anchor.DependsOn).toContain(byPrefix(template, 'DeployCustomResource')[0]);
  });

  test('onDeployment runs after the rest of the stack and after its deployments', () => {
    const { template } = siteStack({ extra: (stack, distribution, deployment) => new Invalidation(stack, 'Purge', { distribution, trigger: InvalidationTrigger.onDeployment(deployment) }) });
    expect(dependsOnOf(template, 'Purge')).toEqual(expect.arrayContaining([anchorOf(template)[0], byPrefix(template, 'DeployCustomResource')[0]]));
  });

  test('executeAfterStack: false runs after what the trigger follows only, plus executeAfter', () => {
    const { template } = siteStack({
      invalidation: { trigger: InvalidationTrigger.onChangeOf('v1'), executeAfterStack: false },
      extra: (stack, distribution, deployment) => {
        new Invalidation(stack, 'Purge', { distribution, trigger: InvalidationTrigger.onDeployment(deployment), executeAfterStack: false });
        (stack.node.findChild('Invalidate') as Invalidation).executeAfter(new s3.Bucket(stack, 'Later'));
      },
    });
    expect([...dependsOnOf(template)].sort()).toEqual([byPrefix(template, 'Later')[0], policyIdOf(template)].sort());
    const deploymentResources = Object.keys(resourcesOf(template)).filter((id) => /^Deploy(CustomResource|AwsCliLayer)/.test(id));
    expect([...dependsOnOf(template, 'Purge')].sort()).toEqual([...deploymentResources, policyIdOf(template)].sort());
  });

  test('executeAfterStack: false with onStackChange is an error naming the prop', () => {
    expect(() => siteStack({ invalidation: { executeAfterStack: false } })).toThrow(/Site\/Invalidate: executeAfterStack is false, but the onStackChange trigger/);
  });

  test('executeAfter adds to the order', () => {
    const { template } = siteStack({
      extra: (stack) => (stack.node.findChild('Invalidate') as Invalidation).executeAfter(new s3.Bucket(stack, 'Later')),
    });
    expect(dependsOnOf(template)).toContain(byPrefix(template, 'Later')[0]);
  });
});

describe('fingerprint (onStackChange)', () => {
  test('changes when site content (an asset) changes', () => {
    expect(triggerOf(siteStack({ content: '<h1>v1</h1>' }).template)).not.toEqual(triggerOf(siteStack({ content: '<h1>v2</h1>' }).template));
  });

  test('stays the same when the content does', () => {
    expect(triggerOf(siteStack().template)).toEqual(triggerOf(siteStack().template));
  });

  test('changes when another resource\'s configuration changes', () => {
    const withFunction = (memorySize: number) => siteStack({
      extra: (stack) => new lambda.Function(stack, 'Api', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.h', code: lambda.Code.fromInline('exports.h=1'), memorySize }),
    }).template;
    expect(triggerOf(withFunction(128))).not.toEqual(triggerOf(withFunction(256)));
  });

  test('stays the same when only the handler, its settings, the library\'s other resources or CDK metadata change', () => {
    const base = triggerOf(siteStack().template);
    const handlerChanged = siteStack({
      invalidation: { waitForCompletion: true, timeout: Duration.minutes(5), failOnTimeout: false, paths: ['/a'] },
      extra: (stack) => {
        const fn = stack.node.findChild('CloudFrontInvalidationProvider').node.findChild('Handler') as lambda.Function;
        (fn.node.defaultChild as lambda.CfnFunction).addPropertyOverride('Code.S3Key', 'a-newer-handler.zip');
        (fn.node.defaultChild as lambda.CfnFunction).addPropertyOverride('MemorySize', 1024);
        Invalidation.configureHandler(stack, { logRetention: logs.RetentionDays.ONE_DAY });
      },
    });
    expect(triggerOf(handlerChanged.template)).toEqual(base);
    const noPathMetadata = siteStack({ app: newApp({ context: { 'aws:cdk:enable-path-metadata': false } }) });
    expect(triggerOf(noPathMetadata.template)).toEqual(base);
  });

  test('carries the deploy-time values of the parameters the stack uses', () => {
    const { template } = siteStack({
      extra: (stack) => {
        const version = new CfnParameter(stack, 'SiteVersion', { type: 'String' });
        const hosts = new CfnParameter(stack, 'Origins', { type: 'CommaDelimitedList' });
        new ssm.StringParameter(stack, 'Version', { stringValue: version.valueAsString });
        new ssm.StringParameter(stack, 'Origin', { stringValue: Fn.select(0, hosts.valueAsList) });
        new CfnParameter(stack, 'Unused', { type: 'String' });
      },
    });
    expect(triggerOf(template).slice(1)).toEqual([
      { 'Fn::Join': ['', ['parameter:Origins=', { 'Fn::Join': [',', { Ref: 'Origins' }] }]] },
      { 'Fn::Join': ['', ['parameter:SiteVersion=', { Ref: 'SiteVersion' }]] },
    ]);
  });

  test('carries the values the stack imports from other stacks, which change without its template changing', () => {
    const app = newApp();
    const shared = new Stack(app, 'Shared', { env: ENV });
    const api = new ssm.StringParameter(shared, 'Api', { stringValue: 'https://api.example.com' });
    const { template } = siteStack({ app, extra: (stack) => new ssm.StringParameter(stack, 'ApiName', { stringValue: api.parameterName }) });
    expect(triggerOf(template).slice(1)).toEqual([{ 'Fn::ImportValue': expect.stringMatching(/^Shared:ExportsOutputRefApi/) }]);
  });

  test('is worked out once per stack: each resource rendered and each fingerprint hashed once, however many Invalidations', () => {
    const rendersWith = (n: number) => {
      const spy = jest.spyOn(render, 'renderResource');
      const hashes = jest.spyOn(fingerprints, 'fingerprint');
      try {
        const { template } = siteStack({
          extra: (stack, distribution, deployment) => {
            for (let i = 1; i < n; i++) {
              new Invalidation(stack, `Purge${i}`, { distribution, paths: [`/p${i}`] });
              new Invalidation(stack, `Copy${i}`, { distribution, paths: [`/c${i}`], trigger: InvalidationTrigger.onDeployment(deployment) });
            }
          },
        });
        const triggers = new Set(Object.values(invalidationResources(template)).map((r) => JSON.stringify(r.Properties.Trigger)));
        const followed = anchorOf(template)[1].DependsOn!.length;
        return { calls: spy.mock.calls.length, hashes: hashes.mock.calls.length, triggers: triggers.size, followed };
      } finally {
        spy.mockRestore();
        hashes.mockRestore();
      }
    };
    const one = rendersWith(1);
    const thirty = rendersWith(30);
    // Every user resource once for the stack (the anchor and the fingerprint), the copy once more for
    // the setup checks of the app, and once more for the deployments' fingerprint.
    expect(one.calls).toBe(one.followed + 1);
    expect(thirty.calls).toBe(one.calls + 1);
    // One fingerprint for the stack, one for the deployment.
    expect([one.hashes, thirty.hashes]).toEqual([1, 2]);
    expect([one.triggers, thirty.triggers]).toEqual([1, 2]);
  });

  test('what is worked out before the stack is complete does not stick', () => {
    const early = (stack: Stack) => {
      const content = (stack.node.findChild('CloudFrontInvalidationProvider') as unknown as { content: { followedIds(): string[]; stackChangeFingerprint(): unknown[] } }).content;
      return [content.followedIds(), content.stackChangeFingerprint()];
    };
    let before: unknown[] = [];
    const { template } = siteStack({
      extra: (stack) => {
        before = early(stack);
        new ssm.StringParameter(stack, 'Later', { stringValue: 'x' });
      },
    });
    expect(before[0]).not.toContain(byPrefix(template, 'Later')[0]);
    expect(anchorOf(template)[1].DependsOn).toContain(byPrefix(template, 'Later')[0]);
    expect(triggerOf(template)).not.toEqual(before[1]);
  });
});

describe('onDeployment', () => {
  function deploymentSite(content = '<h1>v1</h1>', memorySize = 128) {
    const app = newApp();
    const stack = new Stack(app, 'Site', { env: ENV });
    const bucket = new s3.Bucket(stack, 'Bucket');
    const distribution = new cloudfront.Distribution(stack, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const deployment = new s3deploy.BucketDeployment(stack, 'Assets', {
      sources: [s3deploy.Source.data('app.js', content)],
      destinationBucket: bucket,
      destinationKeyPrefix: 'assets/',
    });
    new lambda.Function(stack, 'Api', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.h', code: lambda.Code.fromInline('exports.h=1'), memorySize });
    new Invalidation(stack, 'Purge', {
      distribution,
      trigger: InvalidationTrigger.onDeployment(deployment),
      paths: InvalidationPaths.ofDeployment(deployment),
    });
    return Template.fromStack(stack);
  }

  test('runs after the deployment\'s copy, with the paths under its prefix', () => {
    const template = deploymentSite();
    const [, invalidation] = only(invalidationResources(template));
    const [copy] = Object.keys(template.findResources('Custom::CDKBucketDeployment'));
    expect(invalidation.DependsOn).toContain(copy);
    expect(invalidation.Properties.Paths).toEqual(['/assets/*']);
  });

  test('fires when the deployment\'s content changes, not when the rest of the stack does', () => {
    const base = triggerOf(deploymentSite());
    // The hash, then what the copy refers to, as CloudFormation resolves it: its bucket.
    expect(base).toEqual([expect.stringMatching(/^deployment:[0-9a-f]{64}$/), { Ref: expect.stringMatching(/^Bucket/) }]);
    expect(triggerOf(deploymentSite('<h1>v2</h1>'))).not.toEqual(base);
    expect(triggerOf(deploymentSite('<h1>v1</h1>', 1024))).toEqual(base);
  });

  test('follows the values its sources resolve at deploy time: a parameter replaced gives a new config.json, and fires it', () => {
    const app = newApp();
    const stack = new Stack(app, 'Site', { env: ENV });
    const bucket = new s3.Bucket(stack, 'Bucket');
    const distribution = new cloudfront.Distribution(stack, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const param = new ssm.StringParameter(stack, 'Endpoint', { stringValue: 'https://api.example.com' });
    const deployment = new s3deploy.BucketDeployment(stack, 'Config', {
      sources: [s3deploy.Source.jsonData('config.json', { endpoint: param.parameterName, arn: param.parameterArn })],
      destinationBucket: bucket,
    });
    new Invalidation(stack, 'Purge', { distribution, trigger: InvalidationTrigger.onDeployment(deployment) });
    const trigger = triggerOf(Template.fromStack(stack));
    const [paramId] = Object.keys(Template.fromStack(stack).findResources('AWS::SSM::Parameter'));
    expect(trigger).toEqual(expect.arrayContaining([{ Ref: paramId }]));
    expect(JSON.stringify(trigger)).toContain(paramId);
  });

  test('refuses a BucketDeployment from another stack', () => {
    const app = newApp();
    const one = new Stack(app, 'One');
    const bucket = new s3.Bucket(one, 'Bucket');
    const deployment = new s3deploy.BucketDeployment(one, 'Assets', { sources: [s3deploy.Source.data('a', 'b')], destinationBucket: bucket });
    const two = new Stack(app, 'Two');
    expect(() => new Invalidation(two, 'Purge', { distribution: imported(two, 'E1'), trigger: InvalidationTrigger.onDeployment(deployment) }))
      .toThrow(/BucketDeployment One\/Assets is in stack One, the invalidation in stack Two; put them in the same stack/);
  });
});

describe('InvalidationPaths.ofDeployment', () => {
  function deployment(destinationKeyPrefix?: string) {
    const stack = new Stack(newApp());
    const bucket = new s3.Bucket(stack, 'Bucket');
    return new s3deploy.BucketDeployment(stack, 'D', { sources: [s3deploy.Source.data('a', 'b')], destinationBucket: bucket, destinationKeyPrefix });
  }

  test.each([
    [undefined, {}, ['/*']],
    ['assets', {}, ['/assets/*']],
    ['assets/', {}, ['/assets/*']],
    ['site/v2/assets/', { originPath: '/site/v2' }, ['/assets/*']],
    ['site/', { originPath: '/site' }, ['/*']],
  ])('prefix %j with %j serves %j', (prefix, options, expected) => {
    expect(InvalidationPaths.ofDeployment(deployment(prefix), options)).toEqual(expected);
  });

  test('refuses a prefix the origin path does not serve, or one known only at deploy time', () => {
    expect(() => InvalidationPaths.ofDeployment(deployment('other/'), { originPath: '/site' })).toThrow(/puts its files under "other\/", which the origin path "\/site" does not serve/);
    const withToken = deployment(Lazy.string({ produce: () => 'late/' }));
    expect(() => InvalidationPaths.ofDeployment(withToken)).not.toThrow();
    const stack = new Stack(newApp());
    const param = new CfnParameter(stack, 'Prefix');
    const bucket = new s3.Bucket(stack, 'Bucket');
    const deployed = new s3deploy.BucketDeployment(stack, 'D', { sources: [s3deploy.Source.data('a', 'b')], destinationBucket: bucket, destinationKeyPrefix: param.valueAsString });
    expect(() => InvalidationPaths.ofDeployment(deployed)).toThrow(/only known at deploy time; give the paths yourself/);
  });
});

describe('onChangeOf', () => {
  test('carries the values as CloudFormation resolves them', () => {
    const { template } = siteStack({
      extra: (stack, distribution) => {
        const fn = new lambda.Function(stack, 'Api', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.h', code: lambda.Code.fromInline('exports.h=1') });
        const version = ssm.StringParameter.valueForStringParameter(stack, '/site/version');
        new Invalidation(stack, 'ApiPurge', { distribution, paths: ['/api/*'], trigger: InvalidationTrigger.onChangeOf(fn.currentVersion.version, version, 'schema-3') });
      },
    });
    expect(byPrefix(template, 'ApiPurge')[1].Properties.Trigger).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/^ApiCurrentVersion/), 'Version'] },
      { Ref: expect.stringMatching(/^SsmParameterValue/) },
      'schema-3',
    ]);
  });
});

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
        new Invalidation(stack, 'Other', { distribution: imported(stack, 'EOTHER'), paths: ['#Tag<1>', '/promo<id>.html'] });
        new Invalidation(stack, 'Token', { distribution: imported(stack, 'ETOKEN'), paths: ['/x', `/${Fn.ref('AWS::AccountId')}/*`] });
        new Invalidation(stack, 'Tenant', { distribution, distributionTenantId: 'dt_1' });
        const list = new CfnParameter(stack, 'PathList', { type: 'CommaDelimitedList' });
        new Invalidation(stack, 'Listed', { distribution: imported(stack, 'ELISTED'), paths: list.valueAsList });
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
        new Invalidation(stack, 'Short', { distribution: imported(stack, 'ESHORT'), paths: pathsOf('short', 5) });
        new Invalidation(stack, 'Long', { distribution: imported(stack, 'ELONG'), paths: pathsOf('long', 50) });
        new Invalidation(stack, 'Medium', { distribution: imported(stack, 'EMEDIUM'), paths: pathsOf('medium', 30) });
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
    const { template } = siteStack({ invalidation: false, extra: (stack) => new Invalidation(stack, 'P', { distribution: imported(stack, 'E1'), paths: ['/a', '/b"c<d>'] }) });
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
          new Invalidation(stack, `P${i}`, { distribution: imported(stack, `E${String(i).padStart(13, '0')}`), paths: [value], trigger: InvalidationTrigger.onChangeOf('x') });
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
        const distribution = imported(stack, 'ESAME');
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
          new Invalidation(stack, `Purge${i}`, { distribution: imported(stack, `E${String(i).padStart(13, '0')}`) });
        }
      },
    })).toThrow(/Stack Site: the rule that purges caches after a failed deploy must list the 200 Invalidations of the stack \(200 distinct/);
  });
});

describe('nested stacks', () => {
  test('a distribution in a nested stack, the Invalidation in its parent: no cycle', () => {
    const app = newApp();
    const parent = new Stack(app, 'Parent', { env: ENV });
    const nested = new NestedStack(parent, 'Cdn');
    const bucket = new s3.Bucket(nested, 'Bucket');
    const distribution = new cloudfront.Distribution(nested, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new s3deploy.BucketDeployment(parent, 'Deploy', { sources: [s3deploy.Source.data('index.html', 'v1')], destinationBucket: bucket });
    new Invalidation(parent, 'Purge', { distribution });
    const parentTemplate = Template.fromStack(parent);
    const nestedTemplate = Template.fromStack(nested);
    const [nestedId] = only(parentTemplate.findResources('AWS::CloudFormation::Stack'));
    expect(anchorOf(parentTemplate)[1].DependsOn).toContain(nestedId);
    expect(only(invalidationResources(parentTemplate))[1].Properties.DistributionId).toEqual({ 'Fn::GetAtt': [nestedId, expect.stringMatching(/^Outputs\./)] });
    expect(nestedTemplate.findResources('AWS::CloudFormation::WaitConditionHandle')).toEqual({});
    deployOrder(resourcesOf(parentTemplate));
    deployOrder(resourcesOf(nestedTemplate));
  });

  test('a distribution in the parent, the Invalidation in a nested stack: no cycle, and the nested stack has its own handler and rule', () => {
    const app = newApp();
    const parent = new Stack(app, 'Parent', { env: ENV });
    const bucket = new s3.Bucket(parent, 'Bucket');
    const distribution = new cloudfront.Distribution(parent, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const nested = new NestedStack(parent, 'Purging');
    new s3deploy.BucketDeployment(nested, 'Deploy', { sources: [s3deploy.Source.data('index.html', 'v1')], destinationBucket: bucket });
    new Invalidation(nested, 'Purge', { distribution });
    const parentTemplate = Template.fromStack(parent);
    const nestedTemplate = Template.fromStack(nested);
    expect(parentTemplate.findResources('Custom::CloudFrontInvalidation')).toEqual({});
    expect(parentTemplate.findResources('AWS::Events::Rule')).toEqual({});
    const [, invalidation] = only(invalidationResources(nestedTemplate));
    expect(invalidation.Properties.DistributionId).toEqual({ Ref: expect.stringMatching(/Distribution/) });
    expect(ruleInput(nestedTemplate).rollbackPurge.targets.map((t) => ({ ...t, DistributionId: unescaped(t.DistributionId) })))
      .toEqual([{ DistributionId: invalidation.Properties.DistributionId, Paths: ['/*'] }]);
    expect(anchorOf(nestedTemplate)[1].DependsOn).toContain(byPrefix(nestedTemplate, 'DeployCustomResource')[0]);
    deployOrder(resourcesOf(parentTemplate));
    deployOrder(resourcesOf(nestedTemplate));
  });
});

describe('distributions from elsewhere', () => {
  test('a distribution from another stack becomes a cross-stack reference', () => {
    const app = newApp();
    const sites = new Stack(app, 'Sites', { env: ENV });
    const bucket = new s3.Bucket(sites, 'Bucket');
    const distribution = new cloudfront.Distribution(sites, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const deploys = new Stack(app, 'Deploys', { env: ENV });
    new Invalidation(deploys, 'Invalidate', { distribution });
    const template = Template.fromStack(deploys);
    template.hasResourceProperties('Custom::CloudFrontInvalidation', { DistributionId: { 'Fn::ImportValue': Match.stringLikeRegexp('Distribution') } });
    expect(deploys.dependencies).toContain(sites);
  });

  test('a distribution of another account is an error naming the prop and the accounts', () => {
    const app = newApp();
    const sites = new Stack(app, 'Sites', { env: { account: '111111111111', region: 'us-east-1' } });
    const distribution = new cloudfront.Distribution(sites, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(new s3.Bucket(sites, 'Bucket')) } });
    const deploys = new Stack(app, 'Deploys', { env: ENV });
    expect(() => new Invalidation(deploys, 'Invalidate', { distribution }))
      .toThrow(/Deploys\/Invalidate: distribution Sites\/Distribution belongs to account 111111111111, but the Invalidation's stack Deploys deploys to account 123456789012/);
  });

  test('an imported distribution of another account (by its env or its ARN) is an error too', () => {
    const app = newApp();
    const elsewhere = new Stack(app, 'Elsewhere', { env: { account: '111111111111', region: 'eu-west-1' } });
    const deploys = new Stack(app, 'Deploys', { env: ENV });
    expect(() => new Invalidation(deploys, 'ByEnv', { distribution: imported(elsewhere, 'E1') })).toThrow(/distribution Elsewhere\/E1 belongs to account 111111111111/);
    const byArn: cloudfront.IDistribution = Object.create(imported(deploys, 'E2'), { distributionArn: { value: 'arn:aws:cloudfront::222222222222:distribution/E2' } });
    expect(() => new Invalidation(deploys, 'ByArn', { distribution: byArn })).toThrow(/distribution Deploys\/E2 belongs to account 222222222222/);
  });

  test('accounts unknown at synth are not compared', () => {
    const app = newApp();
    const agnostic = new Stack(app, 'Agnostic');
    const elsewhere = new Stack(app, 'Elsewhere', { env: { account: '111111111111', region: 'eu-west-1' } });
    expect(() => new Invalidation(agnostic, 'Purge', { distribution: imported(elsewhere, 'E1') })).not.toThrow();
    expect(() => new Invalidation(elsewhere, 'Purge', { distribution: imported(agnostic, 'E2') })).not.toThrow();
  });
});

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

describe('setups that purge twice, or never', () => {
  const warnings = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => String(w.entry.data));

  test('a BucketDeployment that purges the same distribution itself is a warning naming the prop and what to do', () => {
    const { stack } = siteStack({
      extra: (site, distribution) => {
        new s3deploy.BucketDeployment(site, 'Purging', {
          sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: new s3.Bucket(site, 'Other'), distribution,
        });
      },
    });
    expect(warnings(stack)).toEqual([expect.stringMatching(/BucketDeployment Site\/Purging purges distribution Site\/Distribution itself \(its distribution prop\).*Remove distribution/)]);
  });

  test('content another stack deploys into this stack\'s bucket, with onStackChange, is a warning saying what to do', () => {
    const app = newApp();
    const site = new Stack(app, 'Site', { env: ENV });
    const bucket = new s3.Bucket(site, 'Bucket');
    const distribution = new cloudfront.Distribution(site, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new Invalidation(site, 'Purge', { distribution });
    const content = new Stack(app, 'Content', { env: ENV });
    new s3deploy.BucketDeployment(content, 'Files', { sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: bucket });
    app.synth();
    expect(warnings(site)).toEqual([expect.stringMatching(/BucketDeployment Content\/Files \(stack Content\) puts files where distribution Site\/Distribution serves them from, but the trigger onStackChange follows stack Site only.*Put the Invalidation in stack Content/)]);
  });

  test('the Invalidation in another stack than the distribution and its content, with onStackChange, is a warning too', () => {
    const app = newApp();
    const site = new Stack(app, 'Site', { env: ENV });
    const bucket = new s3.Bucket(site, 'Bucket');
    const distribution = new cloudfront.Distribution(site, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new s3deploy.BucketDeployment(site, 'Deploy', { sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: bucket });
    const purges = new Stack(app, 'Purges', { env: ENV });
    new Invalidation(purges, 'Purge', { distribution });
    const followed = new Stack(app, 'Followed', { env: ENV });
    new Invalidation(followed, 'Purge', { distribution, trigger: InvalidationTrigger.onChangeOf('v1') });
    app.synth();
    expect(warnings(purges)).toEqual([expect.stringMatching(/BucketDeployment Site\/Deploy \(stack Site\) puts files where distribution Site\/Distribution serves them from.*follows stack Purges only/)]);
    expect(warnings(followed)).toEqual([]);
  });

  test('content in a nested stack of the Invalidation\'s stack gives no warning: onStackChange sees the nested stack change', () => {
    const app = newApp();
    const parent = new Stack(app, 'Parent', { env: ENV });
    const nested = new NestedStack(parent, 'Nested');
    const bucket = new s3.Bucket(nested, 'Bucket');
    const distribution = new cloudfront.Distribution(nested, 'Distribution', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new s3deploy.BucketDeployment(nested, 'Deploy', { sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: bucket });
    new Invalidation(parent, 'Purge', { distribution });
    app.synth();
    expect(warnings(parent)).toEqual([]);
  });

  test('a warning is silenced by its id in the context key cdk-cloudfront-invalidation:acknowledgeWarning, at any aws-cdk-lib', () => {
    const make = (context?: Record<string, unknown>) => siteStack({
      app: newApp({ context }),
      extra: (site, distribution) => {
        new s3deploy.BucketDeployment(site, 'Purging', {
          sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: new s3.Bucket(site, 'Other'), distribution,
        });
      },
    }).stack;
    expect(warnings(make())).toHaveLength(1);
    expect(warnings(make({ 'cdk-cloudfront-invalidation:acknowledgeWarning': 'cdk-cloudfront-invalidation:purgedTwice' }))).toEqual([]);
    expect(warnings(make({ 'cdk-cloudfront-invalidation:acknowledgeWarning': ['cdk-cloudfront-invalidation:other'] }))).toHaveLength(1);
  });

  test('the same deployment in the Invalidation\'s own stack, or followed by onDeployment, gives no warning', () => {
    expect(warnings(siteStack().stack)).toEqual([]);
  });

  test('failOnTimeout: false without waitForCompletion is a warning naming both props', () => {
    expect(warnings(siteStack({ invalidation: { failOnTimeout: false } }).stack)).toEqual([expect.stringMatching(/^failOnTimeout: false has no effect without waitForCompletion: true/)]);
    expect(warnings(siteStack({ invalidation: { failOnTimeout: false, waitForCompletion: true } }).stack)).toEqual([]);
  });

  test.each(['', ' ', 'dt_1 2'])('distributionTenantId %j is an error naming the prop', (tenant) => {
    expect(() => siteStack({ invalidation: { distributionTenantId: tenant } })).toThrow(/Site\/Invalidate: distributionTenantId ".*" is not a tenant id/);
  });
});

describe('validation at synth', () => {
  const make = (invalidation: Partial<InvalidationProps>) => () => siteStack({ invalidation });

  test.each([
    ['no leading slash', ['index.html'], /paths\[0\] "index.html" is not a valid invalidation path: a path must start with '\/'/],
    ['a star before the end', ['/a', '/img/*.png'], /paths\[1\] "\/img\/\*.png" .*'\*' may only be the last character/],
    ['a path over 4000 characters', [`/${'a'.repeat(4000)}`], /paths\[0\] "\/a{69}\.\.\.a{30}" \(4001 characters\) is not a valid invalidation path: .* at most 4000 characters long once encoded \(this one has 4001\)$/],
    ['a star after 1200 characters', [`/${'a'.repeat(1200)}*b`], /paths\[0\] "\/a+\.\.\.a+\*b" \(1203 characters\) .*'\*' may only be the last character of a path \(found at character 1202 of 1203\)$/],
    ['a path over 4000 characters once encoded', ['/ok', `/${'é'.repeat(700)}`], /paths\[1\] .* at most 4000 characters long once encoded \(this one has 4201\)/],
    ['an empty path', [''], /paths\[0\] "" .* may not be empty/],
    ['a tag without a name', ['#'], /paths\[0\] "#" .* needs a name/],
    ['a tag with a comma', ['#a,b'], /paths\[0\] "#a,b" .* other than ','/],
    ['a tag with a wildcard', ['#tag*'], /paths\[0\] "#tag\*" .* may not contain the wildcard/],
    ['a tag over 256 characters', [`#${'t'.repeat(257)}`], /at most 256 characters long \(this one has 257\)/],
    ['a tag outside ASCII', ['#caf\u00e9'], /ASCII characters 33-126/],
  ])('rejects %s', (_what, paths, message) => {
    expect(make({ paths })).toThrow(message);
  });

  test('rejects an empty path list, naming the prop', () => {
    expect(make({ paths: [] })).toThrow(/Site\/Invalidate: paths is empty/);
  });

  test('rejects a timeout CloudFormation cannot wait for, naming the prop and the value', () => {
    expect(make({ timeout: Duration.minutes(59) })).toThrow(/Site\/Invalidate: timeout is 59 minutes, but must be .* to 58 minutes/);
    expect(make({ timeout: Duration.millis(1500) })).toThrow(/timeout is 1 second 500 millis/);
    expect(make({ timeout: Duration.minutes(58) })).not.toThrow();
  });

  test('accepts cache tags and leaves tokens to the handler', () => {
    const { template } = siteStack({
      extra: (stack, distribution) => {
        const prefix = new CfnParameter(stack, 'Prefix');
        new Invalidation(stack, 'Tokens', { distribution, paths: [`/${prefix.valueAsString}/*`, '#product-42'] });
      },
    });
    expect(Object.keys(invalidationResources(template))).toHaveLength(2);
  });

  test('rejects onChangeOf and onDeployment without arguments', () => {
    expect(() => InvalidationTrigger.onChangeOf()).toThrow(/onChangeOf needs at least one value/);
    expect(() => InvalidationTrigger.onDeployment()).toThrow(/onDeployment needs at least one BucketDeployment/);
  });
});

describe('distribution tenants', () => {
  test('pass the tenant id to the resource', () => {
    const { template } = siteStack({ invalidation: { distributionTenantId: 'dt_example1' } });
    template.hasResourceProperties('Custom::CloudFrontInvalidation', { DistributionTenantId: 'dt_example1' });
  });
});

describe('snapshot', () => {
  test('the resources an Invalidation adds to a site stack', () => {
    const { template } = siteStack();
    const resources = resourcesOf(template);
    const ours = Object.fromEntries(Object.entries(resources).filter(([id]) => id.startsWith('Invalidate') || id.startsWith('CloudFrontInvalidationProvider')));
    // Asset hashes change with every build of the handler; the shape must not.
    expect(JSON.parse(JSON.stringify(ours).replace(/[0-9a-f]{64}(\.zip)?/g, '<hash>$1'))).toMatchSnapshot();
  });

  test('a logical id the library has used keeps its resource type: CloudFormation refuses an update that changes one', () => {
    // The library's resources in a site stack as released before its policies became managed ones.
    const released: Record<string, string> = {
      CloudFrontInvalidationProviderAnchorE9EB0872: 'AWS::CloudFormation::WaitConditionHandle',
      CloudFrontInvalidationProviderDeadLetters67E97B4D: 'AWS::SQS::Queue',
      CloudFrontInvalidationProviderDeadLettersPolicyFE5BA7BB: 'AWS::SQS::QueuePolicy',
      CloudFrontInvalidationProviderHandlerCDA15010: 'AWS::Lambda::Function',
      CloudFrontInvalidationProviderLogsF93B5F75: 'AWS::Logs::LogGroup',
      CloudFrontInvalidationProviderPolicy199468EE: 'AWS::IAM::Policy',
      CloudFrontInvalidationProviderRoleDefaultPolicy8AB8FEFB: 'AWS::IAM::Policy',
      CloudFrontInvalidationProviderRoleE710B701: 'AWS::IAM::Role',
      CloudFrontInvalidationProviderRollbackPurge32B25276: 'AWS::Events::Rule',
      Invalidate3B6DDF08: 'Custom::CloudFrontInvalidation',
    };
    const resources = resourcesOf(siteStack().template);
    const changed = Object.entries(released).filter(([id, type]) => resources[id] !== undefined && resources[id].Type !== type);
    expect(changed).toEqual([]);
    // The anchor, queue, function, logs, role, rule and Invalidation are still there, under the same ids.
    expect(Object.keys(released).filter((id) => resources[id] !== undefined)).toHaveLength(8);
  });
});
