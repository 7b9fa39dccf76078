/**
 * Item 2, synthesis and template: the example site (bucket, BucketDeployment, distribution) with
 * 0, 1, 10 and 100 Invalidations, alone and in a stack of 400 resources (SQS queues), beside the
 * same site purged by `BucketDeployment({ distribution })`: synthesis time, template bytes,
 * resources, Lambda functions and asset bytes.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { ItemResult, Row } from './stats';
import { alternate, count, kb, median, ms, ratio } from './stats';
import { Invalidation } from '../../src';
import { SITE_DIR } from '../demo/app';
import { ACCOUNT_ID, REGION } from '../driver/local-cloud';

const REPRODUCE = 'npm run bench -- synth';
const ROUNDS = 9;
const TOTAL_RESOURCES = 400;

interface Variant {
  readonly invalidations: number;
  /** Resources the stack should reach with SQS queues (0: none added). */
  readonly fillTo: number;
  /** Purge with the BucketDeployment's own `distribution` instead. */
  readonly bucketDeploymentPurge?: boolean;
}

interface Synthesized {
  readonly ms: number;
  readonly templateBytes: number;
  readonly resources: number;
  readonly functions: number;
  readonly assetBytes: number;
}

/** How many resources the bare example site synthesizes to, to know how many queues make 400. */
let siteResources: number | undefined;

function synthOnce(v: Variant): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  try {
    const start = process.hrtime.bigint();
    // CDK refuses a stack over CloudFormation's 500 resources; synthesize it anyway, and say so.
    const app = new App({ outdir, context: { '@aws-cdk/core:stackResourceLimit': 0 } });
    const stack = new Stack(app, 'Site', { env: { account: ACCOUNT_ID, region: REGION } });
    const bucket = new s3.Bucket(stack, 'Content');
    const distribution = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new s3deploy.BucketDeployment(stack, 'Site', {
      sources: [s3deploy.Source.asset(path.join(SITE_DIR, 'v1'))],
      destinationBucket: bucket,
      ...(v.bucketDeploymentPurge ? { distribution, distributionPaths: ['/*'] } : {}),
    });
    for (let i = 0; i < (v.fillTo > 0 ? v.fillTo - siteResources! : 0); i++) {
      new sqs.Queue(stack, `Queue${i}`);
    }
    for (let i = 0; i < v.invalidations; i++) {
      new Invalidation(stack, `Purge${i}`, { distribution, paths: [`/section${i}/*`] });
    }
    const assembly = app.synth();
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    const artifact = assembly.getStackByName('Site');
    const templateFile = path.join(outdir, artifact.templateFile);
    const resources = Object.values(artifact.template.Resources as Record<string, { Type: string }>);
    return {
      ms: elapsed,
      templateBytes: fs.statSync(templateFile).size,
      resources: resources.length,
      functions: resources.filter((r) => r.Type === 'AWS::Lambda::Function').length,
      assetBytes: fs.readdirSync(outdir).filter((f) => f.startsWith('asset.')).reduce((n, f) => n + bytesOf(path.join(outdir, f)), 0),
    };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function bytesOf(p: string): number {
  const stat = fs.statSync(p);
  return stat.isDirectory() ? fs.readdirSync(p).reduce((n, f) => n + bytesOf(path.join(p, f)), 0) : stat.size;
}

export async function synthesis(): Promise<ItemResult> {
  console.log(`\n2. Synthesis and template: ${ROUNDS} alternating rounds`);
  siteResources = synthOnce({ invalidations: 0, fillTo: 0 }).resources;
  const variants: Record<string, Variant> = {};
  for (const fillTo of [0, TOTAL_RESOURCES]) {
    for (const invalidations of [0, 1, 10, 100]) {
      variants[`${fillTo}:${invalidations}`] = { invalidations, fillTo };
    }
    variants[`${fillTo}:bd`] = { invalidations: 0, fillTo, bucketDeploymentPurge: true };
  }
  const last = new Map<string, Synthesized>();
  const commands = Object.fromEntries(Object.entries(variants).map(([key, v]) => [key, async () => {
    const s = synthOnce(v);
    last.set(key, s);
    return s.ms;
  }]));
  const times = await alternate(ROUNDS, commands);
  const rows: Row[] = [];
  for (const fillTo of [0, TOTAL_RESOURCES]) {
    const stackName = fillTo === 0 ? `site (${siteResources} resources)` : `site + queues (${last.get(`${fillTo}:0`)!.resources} resources)`;
    const base = last.get(`${fillTo}:0`)!;
    const baseMs = median(times[`${fillTo}:0`]);
    rows.push({
      section: '2 synth',
      measure: `${stackName}, no purge`,
      value: ms(baseMs),
      compared: `template ${kb(base.templateBytes)}, ${base.functions} Lambda function(s), assets ${kb(base.assetBytes)}`,
      reproduce: REPRODUCE,
    });
    for (const key of [...[1, 10, 100].map((n) => `${fillTo}:${n}`), `${fillTo}:bd`]) {
      const s = last.get(key)!;
      const t = median(times[key]);
      const label = key.endsWith(':bd') ? 'BucketDeployment({ distribution })' : `${key.split(':')[1]} Invalidation${key.endsWith(':1') ? '' : 's'}`;
      rows.push({
        section: '2 synth',
        measure: `${stackName}, ${label}`,
        value: ms(t),
        compared: `${ratio(t, baseMs)} no purge; template +${kb(s.templateBytes - base.templateBytes)}; `
          + `+${count(s.resources - base.resources)} resources, +${s.functions - base.functions} Lambda function(s); assets +${kb(s.assetBytes - base.assetBytes)}`
          + (s.resources > 500 ? `; ${s.resources} resources: over CloudFormation's 500, would not deploy` : ''),
        reproduce: REPRODUCE,
      });
    }
  }
  return { rows };
}
