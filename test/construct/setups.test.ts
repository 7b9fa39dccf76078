/**
 * Setups of real apps: stacks made from one class for several stages, content with a CloudFormation
 * Condition, Invalidations that repeat one another, and the notes synth adds. Real aws-cdk-lib
 * synthesis; what deploys goes through the lifecycle driver, the bundled handler and the CloudFront
 * emulator.
 */
import * as path from 'path';
import { Annotations, App, CfnCondition, CfnParameter, CfnResource, Fn, NestedStack, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';
import { Invalidation, InvalidationPaths, InvalidationTrigger } from '../../src';
import { bucketDeploymentResource } from '../../src/deployment';
import { RESOURCE_TYPE } from '../../src/shared/contract';
import { SITE_DIR } from '../demo/app';
import type { SynthesizedStack } from '../driver/assembly';
import { dropArchives, freshOutdir, readStack } from '../driver/assembly';
import type { LifecycleDriver } from '../driver/driver';
import type { StepReport } from '../driver/reports';
import { expectNoViolations, lifecycleDriverPerTest } from '../support/deploys';
import { ENV, synthApp } from '../support/synth';

// Every synthesis in this file fails on a deprecated aws-cdk-lib API.
process.env.JSII_DEPRECATED = 'fail';

/** Synthesizes an app made by `define`. */
function synth(define: (app: App) => void): CloudAssembly {
  return synthApp('setups-', define);
}

/** The messages of a level synth left on a stack's constructs, as `<construct path>: <text>`. */
function messages(assembly: CloudAssembly, stackName: string, level: 'warning' | 'info'): string[] {
  return assembly.getStackByName(stackName).messages.filter((m) => m.level === level).map((m) => `${m.id.replace(/^\//, '')}: ${String(m.entry.data)}`);
}

/** Warnings with the given id, on any stack of the assembly. */
function warnings(assembly: CloudAssembly, id: string): string[] {
  return assembly.stacks.flatMap((s) => messages(assembly, s.stackName, 'warning')).filter((m) => m.endsWith(`[ack: cdk-cloudfront-invalidation:${id}]`));
}

interface SiteProps extends StackProps {
  /** Whether the stack has moved to an Invalidation, or still purges from its BucketDeployment. */
  readonly migrated: boolean;
  /** The distribution the BucketDeployment purges, when not the stack's own. */
  readonly purges?: (site: SiteStack) => cloudfront.IDistribution;
}

/** A static site, as one class makes it for every stage. */
class SiteStack extends Stack {
  public readonly bucket: s3.Bucket;
  public readonly cdn: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: SiteProps) {
    super(scope, id, { env: ENV, ...props });
    this.bucket = new s3.Bucket(this, 'Content');
    this.cdn = new cloudfront.Distribution(this, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket) } });
    new s3deploy.BucketDeployment(this, 'Site', {
      sources: [s3deploy.Source.asset(path.join(SITE_DIR, 'v1'))],
      destinationBucket: this.bucket,
      distribution: props.migrated ? undefined : props.purges?.(this) ?? this.cdn,
    });
    if (props.migrated) {
      new Invalidation(this, 'Purge', { distribution: this.cdn });
    }
  }
}

describe('a BucketDeployment that purges the distribution itself', () => {
  test('is no warning when it is another stage\'s stack of the same class, with the same logical ids', () => {
    const assembly = synth((app) => {
      new SiteStack(app, 'Staging', { migrated: true });
      new SiteStack(app, 'Prod', { migrated: false });
    });
    expect(warnings(assembly, 'purgedTwice')).toEqual([]);
  });

  test('is a warning when it is in the Invalidation\'s stack', () => {
    const assembly = synth((app) => {
      const stack = new SiteStack(app, 'Staging', { migrated: true });
      new s3deploy.BucketDeployment(stack, 'Extra', { sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: stack.bucket, distribution: stack.cdn });
    });
    expect(warnings(assembly, 'purgedTwice')).toEqual([expect.stringMatching(/^Staging\/Purge: BucketDeployment Staging\/Extra purges distribution Staging\/Cdn itself/)]);
  });

  test('is a warning when it refers to the distribution from another stack, or from a nested stack', () => {
    const assembly = synth((app) => {
      const staging = new SiteStack(app, 'Staging', { migrated: true });
      const other = new Stack(app, 'Other', { env: ENV });
      new s3deploy.BucketDeployment(other, 'Files', {
        sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: new s3.Bucket(other, 'Bucket'), distribution: staging.cdn,
      });
      new SiteStack(app, 'Prod', { migrated: false, purges: () => staging.cdn });
      const nested = new NestedStack(staging, 'Nested');
      new s3deploy.BucketDeployment(nested, 'Files', {
        sources: [s3deploy.Source.data('b.txt', 'b')], destinationBucket: new s3.Bucket(nested, 'Bucket'), distribution: staging.cdn,
      });
    });
    expect(warnings(assembly, 'purgedTwice').sort()).toEqual([
      expect.stringMatching(/^Staging\/Purge: BucketDeployment Other\/Files purges distribution Staging\/Cdn itself/),
      expect.stringMatching(/^Staging\/Purge: BucketDeployment Prod\/Site purges distribution Staging\/Cdn itself/),
      expect.stringMatching(/^Staging\/Purge: BucketDeployment Staging\/Nested\/Files purges distribution Staging\/Cdn itself/),
    ]);
  });

  test('is a warning for imported distributions with the same literal id, and only then', () => {
    const imported = (scope: Construct, distributionId: string) => cloudfront.Distribution.fromDistributionAttributes(scope, 'Imported', {
      distributionId, domainName: `${distributionId.toLowerCase()}.cloudfront.net`,
    });
    const assembly = synth((app) => {
      const staging = new Stack(app, 'Staging', { env: ENV });
      new Invalidation(staging, 'Purge', { distribution: imported(staging, 'E1STAGING') });
      for (const [name, id] of [['Same', 'E1STAGING'], ['Different', 'E2PROD']]) {
        const stack = new Stack(app, name, { env: ENV });
        new s3deploy.BucketDeployment(stack, 'Site', {
          sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: new s3.Bucket(stack, 'Bucket'), distribution: imported(stack, id),
        });
      }
    });
    expect(warnings(assembly, 'purgedTwice')).toEqual([expect.stringMatching(/^Staging\/Purge: BucketDeployment Same\/Site purges distribution Staging\/Imported itself/)]);
  });
});

describe('content with a CloudFormation Condition', () => {
  let driver: LifecycleDriver;
  const start = lifecycleDriverPerTest((started) => (driver = started), { cloud: { cloudfront: { completionDelayMs: 100 } } });
  beforeEach(() => start());

  /**
   * A site whose docs, a BucketDeployment under `docs/`, exist only while the parameter WithDocs is
   * "yes" (its default); `purge` adds the Invalidations. Each logical id of the docs sorts after the
   * Invalidations and the anchor, so nothing but a dependency puts them first.
   */
  function site(purge: (stack: Stack, cdn: cloudfront.Distribution, docs: s3deploy.BucketDeployment) => void, docs = 'v2'): SynthesizedStack {
    const outdir = freshOutdir('setups-');
    const app = new App({ outdir });
    const stack = new Stack(app, 'Docs', { env: ENV });
    const bucket = new s3.Bucket(stack, 'Content');
    const cdn = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new s3deploy.BucketDeployment(stack, 'Site', { sources: [s3deploy.Source.asset(path.join(SITE_DIR, 'v1'))], destinationBucket: bucket });
    const withDocs = new CfnParameter(stack, 'WithDocs', { type: 'String', default: 'yes' });
    const hasDocs = new CfnCondition(stack, 'HasDocs', { expression: Fn.conditionEquals(withDocs.valueAsString, 'yes') });
    const upload = new s3deploy.BucketDeployment(stack, 'Upload', {
      sources: [s3deploy.Source.asset(path.join(SITE_DIR, docs))], destinationBucket: bucket, destinationKeyPrefix: 'docs/',
    });
    bucketDeploymentResource(upload, 'test').cfnOptions.condition = hasDocs;
    purge(stack, cdn, upload);
    const synthesized = readStack(app.synth(), 'Docs');
    // Each synthesis prepares the app anew: a second one must write the same template.
    expect(readStack(app.synth({ force: true }), 'Docs').template).toEqual(synthesized.template);
    dropArchives(outdir);
    return synthesized;
  }

  const byDefault = () => site((stack, cdn) => new Invalidation(stack, 'Purge', { distribution: cdn }));
  const onDocs = () => site((stack, cdn, docs) => new Invalidation(stack, 'Purge', {
    distribution: cdn, paths: ['/docs/*'], trigger: InvalidationTrigger.onDeployment(docs), executeAfterStack: false,
  }));
  const afterDocs = () => site((stack, cdn, docs) => new Invalidation(stack, 'Purge', {
    distribution: cdn, paths: ['/docs/*'], trigger: InvalidationTrigger.onChangeOf('v1'), executeAfterStack: false,
  }).executeAfter(docs));

  /** When the docs landed in the step, and when each invalidation was created. */
  function timeline(step: StepReport) {
    return {
      docs: step.content.filter((c) => c.prefix === 'docs/').map((c) => c.landedAt),
      purges: step.invalidations.map((i) => i.createdAtRequest),
    };
  }

  /** Each DependsOn of the template that names a resource with another Condition than the one that depends on it. */
  function conditionalDependsOn(template: SynthesizedStack['template']): string[] {
    return Object.entries(template.Resources).flatMap(([id, r]) => [r.DependsOn ?? []].flat()
      .filter((target) => template.Resources[target]?.Condition !== undefined && template.Resources[target].Condition !== r.Condition)
      .map((target) => `${id} -> ${target}`));
  }

  test.each([
    ['the default trigger', byDefault],
    ['onDeployment of the docs', onDocs],
    ['executeAfter the docs', afterDocs],
  ])('with %s, the template names the docs in no DependsOn, but in a Ref that holds only with their condition', (_what, make) => {
    const template = make().template;
    expect(conditionalDependsOn(template)).toEqual([]);
    const [docsId] = Object.entries(template.Resources).find(([, r]) => r.Condition === 'HasDocs')!;
    const waiting = Object.values(template.Resources).filter((r) => JSON.stringify(r.Metadata ?? {}).includes(JSON.stringify({
      'Fn::If': ['HasDocs', { Ref: docsId }, { Ref: 'AWS::NoValue' }],
    })));
    // The anchor waits for the whole stack; an Invalidation that does not wait for the anchor waits for the docs itself.
    const expected = make === byDefault ? ['AWS::CloudFormation::WaitConditionHandle'] : ['AWS::CloudFormation::WaitConditionHandle', RESOURCE_TYPE];
    expect(waiting.map((r) => r.Type).sort()).toEqual(expected);
  });

  test('a Condition set after the Invalidation was defined counts too, and the rest of what it waits for stays in DependsOn', () => {
    const assembly = synth((app) => {
      const stack = new Stack(app, 'Late', { env: ENV });
      const cdn = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn', { distributionId: 'E1', domainName: 'x' });
      const purge = new Invalidation(stack, 'Purge', { distribution: cdn, trigger: InvalidationTrigger.onChangeOf('v1'), executeAfterStack: false });
      const [optional, always] = ['Optional', 'Always'].map((id) => new s3.Bucket(stack, id));
      purge.executeAfter(optional, always);
      (optional.node.defaultChild as CfnResource).cfnOptions.condition = new CfnCondition(stack, 'Sometimes', { expression: Fn.conditionEquals('a', 'b') });
    });
    const resources = assembly.getStackByName('Late').template.Resources as SynthesizedStack['template']['Resources'];
    const [id, purge] = Object.entries(resources).find(([, r]) => r.Type === RESOURCE_TYPE)!;
    const logicalId = (prefix: string) => Object.keys(resources).find((k) => k.startsWith(prefix))!;
    expect(purge.DependsOn).toContain(logicalId('Always'));
    expect(purge.DependsOn).not.toContain(logicalId('Optional'));
    expect(purge.Metadata).toEqual({
      'cdk-cloudfront-invalidation:conditionalDependsOn': { [logicalId('Optional')]: { 'Fn::If': ['Sometimes', { Ref: logicalId('Optional') }, { Ref: 'AWS::NoValue' }] } },
    });
    expect(id).toMatch(/^Purge/);
  });

  test.each([
    ['the default trigger', byDefault],
    ['onDeployment of the docs', onDocs],
    ['executeAfter the docs', afterDocs],
  ])('with %s, the purge comes after the docs while they exist, and the deploy goes through without them', async (_what, make) => {
    const first = await driver.deploy(make());
    const { docs, purges } = timeline(first);
    expect(docs).toHaveLength(1);
    expect(purges).toHaveLength(1);
    expect(purges[0]).toBeGreaterThan(docs[0]);
    if (make === byDefault) {
      expectNoViolations(driver, first);
    }

    const without = await driver.deploy({ ...make(), stackName: 'Docs' }, { parameters: { WithDocs: 'no' } });
    expect(without.stackStatus).toBe('UPDATE_COMPLETE');
    expect(without.changes.filter((c) => c.type === 'Custom::CDKBucketDeployment').map((c) => c.action)).toEqual(['delete']);
    await driver.destroy('Docs');
    const fresh = await driver.deploy(make(), { parameters: { WithDocs: 'no' } });
    expect(fresh.stackStatus).toBe('CREATE_COMPLETE');
    expect(timeline(fresh)).toEqual({ docs: [], purges: [expect.any(Number)] });
  });
});

describe('Invalidations that repeat one another', () => {
  /** A site with its BucketDeployment `Files`, and the Invalidations `define` adds. */
  function sites(define: (stack: Stack, cdn: cloudfront.Distribution, files: s3deploy.BucketDeployment) => void): string[] {
    const assembly = synth((app) => {
      const stack = new Stack(app, 'Site', { env: ENV });
      const bucket = new s3.Bucket(stack, 'Content');
      const cdn = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
      const files = new s3deploy.BucketDeployment(stack, 'Files', { sources: [s3deploy.Source.data('a.txt', 'a')], destinationBucket: bucket });
      define(stack, cdn, files);
    });
    return warnings(assembly, 'duplicateInvalidation');
  }

  test('with the same distribution, paths after normalization and trigger, the second is a warning naming both, the distribution and what to do', () => {
    expect(sites((stack, cdn) => {
      new Invalidation(stack, 'Purge', { distribution: cdn, paths: ['/b', '/a', '/a', '/docs/*', '/docs/index.html'] });
      new Invalidation(stack, 'PurgeAgain', { distribution: cdn, paths: ['/docs/*', '/a', '/b'] });
    })).toEqual([expect.stringMatching(new RegExp('^Site/PurgeAgain: Invalidations Site/Purge and Site/PurgeAgain purge the same paths \\(/a /b /docs/\\*\\) '
      + 'of distribution Site/Cdn, and every deploy that fires Site/PurgeAgain \\(onStackChange\\) fires Site/Purge \\(onStackChange\\) too: '
      + 'each of those deploys purges twice, and CloudFront bills both\\. Remove Site/PurgeAgain, or give the two different paths\\. '
      + '\\(Two Invalidations of a stack with the same distribution, tenant and paths are flagged when one trigger fires only where the other does'))]);
  });

  test.each([
    ['onDeployment of the same deployment', (f: s3deploy.BucketDeployment) => [InvalidationTrigger.onDeployment(f), InvalidationTrigger.onDeployment(f)]],
    ['onChangeOf the same values', () => [InvalidationTrigger.onChangeOf('v1', 'v2'), InvalidationTrigger.onChangeOf('v2', 'v1')]],
    ['onChangeOf some of the values of the other', () => [InvalidationTrigger.onChangeOf('v1', 'v2'), InvalidationTrigger.onChangeOf('v2')]],
    ['onDeployment next to onStackChange, which fires whenever the deployment changes', (f: s3deploy.BucketDeployment) => [
      InvalidationTrigger.onStackChange(), InvalidationTrigger.onDeployment(f),
    ]],
  ])('%s is a warning', (_what, triggers) => {
    expect(sites((stack, cdn, files) => {
      const [first, second] = triggers(files);
      new Invalidation(stack, 'Purge', { distribution: cdn, trigger: first });
      new Invalidation(stack, 'PurgeAgain', { distribution: cdn, trigger: second });
    })).toEqual([expect.stringMatching(/^Site\/PurgeAgain: Invalidations Site\/Purge and Site\/PurgeAgain purge the same paths \(\/\*\)/)]);
  });

  test('the one to remove is the one whose trigger fires on fewer deploys, whichever came first', () => {
    expect(sites((stack, cdn, files) => {
      new Invalidation(stack, 'Purge', { distribution: cdn, trigger: InvalidationTrigger.onDeployment(files) });
      new Invalidation(stack, 'PurgeAgain', { distribution: cdn });
    })).toEqual([expect.stringMatching(/^Site\/PurgeAgain: .* every deploy that fires Site\/Purge \(onDeployment of Site\/Files\) fires Site\/PurgeAgain \(onStackChange\) too: .* Remove Site\/Purge,/)]);
  });

  test.each([
    ['other paths', { paths: ['/a'] }, { paths: ['/b'] }],
    ['a path list and the changed files', { }, { paths: 'changedFiles' }],
    ['another tenant', { distributionTenantId: 'dt_1' }, { distributionTenantId: 'dt_2' }],
    ['another distribution', { }, { distribution: 'other' }],
    ['onChangeOf other values: they fire on other deploys', { trigger: InvalidationTrigger.onChangeOf('v1') }, { trigger: InvalidationTrigger.onChangeOf('v2') }],
    ['onChangeOf next to onStackChange: values may change with the template unchanged', { }, { trigger: InvalidationTrigger.onChangeOf('v1') }],
  ])('%s is no warning', (_what, first, second) => {
    expect(sites((stack, cdn, files) => {
      const props = (p: Record<string, unknown>) => ({
        ...p,
        distribution: p.distribution === 'other' ? cloudfront.Distribution.fromDistributionAttributes(stack, 'Other', { distributionId: 'E2OTHER', domainName: 'x.cloudfront.net' }) : cdn,
        paths: p.paths === 'changedFiles' ? InvalidationPaths.changedFiles(files) : p.paths as string[] | undefined,
      });
      new Invalidation(stack, 'Purge', props(first));
      new Invalidation(stack, 'PurgeAgain', props(second));
    })).toEqual([]);
  });

  test('in two stacks, each following its own, is no warning', () => {
    const assembly = synth((app) => {
      new SiteStack(app, 'Staging', { migrated: true });
      const prod = new SiteStack(app, 'Prod', { migrated: true });
      new Invalidation(prod, 'PurgeStaging', { distribution: cloudfront.Distribution.fromDistributionAttributes(prod, 'Staging', { distributionId: 'E1', domainName: 'x' }) });
    });
    expect(warnings(assembly, 'duplicateInvalidation')).toEqual([]);
  });
});

describe('the notes synth adds', () => {
  const COST = 'cdk-cloudfront-invalidation:cost';
  const LIMITATIONS = 'cdk-cloudfront-invalidation:limitations';

  /** The info messages of the stacks `Site` and `Other`, each with an Invalidation, in an app with this context. */
  function notes(context: Record<string, unknown> = {}, before?: (site: Stack) => void): string[] {
    const assembly = synth((app) => {
      Object.entries(context).forEach(([key, value]) => app.node.setContext(key, value));
      for (const name of ['Site', 'Other']) {
        const stack = new Stack(app, name, { env: ENV });
        if (name === 'Site') {
          before?.(stack);
        }
        new Invalidation(stack, 'Purge', { distribution: cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn', { distributionId: 'E1', domainName: 'x' }) });
      }
    });
    return ['Site', 'Other'].flatMap((name) => messages(assembly, name, 'info'));
  }

  const ids = (infos: string[]) => infos.map((m) => `${m.split(':')[0]} ${/\[ack: ([^\]]+)\]$/.exec(m)?.[1]}`).sort();

  test('each has an id to acknowledge it by, shown with it', () => {
    const infos = notes();
    expect(ids(infos)).toEqual([
      `Other/CloudFrontInvalidationProvider ${LIMITATIONS}`, `Other/Purge ${COST}`, `Site/CloudFrontInvalidationProvider ${LIMITATIONS}`, `Site/Purge ${COST}`,
    ]);
    expect(infos).toContainEqual(expect.stringMatching(/^Site\/Purge: 1 path \(\/\*\) per deploy\. CloudFront bills each path past the first 1000 a month/));
  });

  test('the context key cdk-cloudfront-invalidation:acknowledgeInfo acknowledges them, as a list or as text, for the app or a stack', () => {
    expect(ids(notes({ 'cdk-cloudfront-invalidation:acknowledgeInfo': [COST] }))).toEqual([
      `Other/CloudFrontInvalidationProvider ${LIMITATIONS}`, `Site/CloudFrontInvalidationProvider ${LIMITATIONS}`,
    ]);
    // `cdk synth -c cdk-cloudfront-invalidation:acknowledgeInfo=...` gives a string.
    expect(notes({ 'cdk-cloudfront-invalidation:acknowledgeInfo': `${COST}, ${LIMITATIONS}` })).toEqual([]);
    expect(ids(notes({}, (site) => site.node.setContext('cdk-cloudfront-invalidation:acknowledgeInfo', [COST, LIMITATIONS])))).toEqual([
      `Other/CloudFrontInvalidationProvider ${LIMITATIONS}`, `Other/Purge ${COST}`,
    ]);
  });

  test('where aws-cdk-lib has Annotations.addInfoV2, they go through it, so that Annotations.acknowledgeInfo silences them', () => {
    const proto = Annotations.prototype as unknown as { addInfoV2?: (id: string, message: string) => void };
    const calls: Array<[string, string]> = [];
    proto.addInfoV2 = function addInfoV2(this: Annotations, id: string, message: string) {
      calls.push([id, message]);
      this.addInfo(`${message} [ack: ${id}]`);
    };
    try {
      expect(ids(notes())).toHaveLength(4);
    } finally {
      delete proto.addInfoV2;
    }
    expect(calls.map(([id]) => id).sort()).toEqual([COST, COST, LIMITATIONS, LIMITATIONS]);
    expect(calls.every(([, message]) => !message.includes('[ack:'))).toBe(true);
  });
});
