/**
 * `npm run bench`: sizes and speeds, as medians of repeated runs, with ratios measured side by side
 * in the same run. Numbers depend on the machine; compare them within one run, not across runs.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { App, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as esbuild from 'esbuild';
import { Invalidation } from '../../src';
import { normalizePaths, planBatches } from '../../src/paths';
import { SITE_DIR } from '../demo/app';
import { requests, SITE, STACK_ID, synthHandlerStack } from '../driver/handler-fixture';
import { ACCOUNT_ID, deployInvalidationHandler, LocalCloud, REGION } from '../driver/local-cloud';

const ROOT = path.resolve(__dirname, '..', '..');
const BUNDLE = path.join(ROOT, 'assets', 'lambda', 'invalidation', 'index', 'index.js');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function time<T>(fn: () => T): [number, T] {
  const start = process.hrtime.bigint();
  const result = fn();
  return [Number(process.hrtime.bigint() - start) / 1e6, result];
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return [Number(process.hrtime.bigint() - start) / 1e6, result];
}

const rows: string[][] = [];
function report(what: string, value: string, note = ''): void {
  rows.push([what, value, note]);
  console.log(`  ${what.padEnd(58)} ${value.padStart(14)}  ${note}`);
}

const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

async function bundle(): Promise<void> {
  console.log('\nHandler bundle');
  const raw = fs.readFileSync(BUNDLE);
  report('minified', kib(raw.length));
  report('gzipped (about what the Lambda zip holds)', kib(gzipSync(raw, { level: 9 }).length));
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bundle-'));
  const result = await esbuild.build({
    entryPoints: [path.join(ROOT, 'lambda', 'invalidation', 'index.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    mainFields: ['module', 'main'],
    outfile: path.join(outdir, 'index.js'),
    metafile: true,
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs)[0];
  const byPackage = new Map<string, number>();
  for (const [file, info] of Object.entries(output.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const key = m ? m[1] : 'this project';
    byPackage.set(key, (byPackage.get(key) ?? 0) + info.bytesInOutput);
  }
  for (const [name, bytes] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 6)) {
    report(`  of which ${name}`, kib(bytes), `${((bytes / output.bytes) * 100).toFixed(0)}%`);
  }
  if (Math.abs(output.bytes - raw.length) > 1024) {
    report('(the shipped bundle and this rebuild differ)', kib(Math.abs(output.bytes - raw.length)));
  }
}

function coldStart(): void {
  console.log('\nLoading the bundle in a fresh Node.js process (15 runs each, alternating)');
  const bare: number[] = [];
  const loaded: number[] = [];
  for (let i = 0; i < 15; i++) {
    bare.push(time(() => spawnSync(process.execPath, ['-e', '0']))[0]);
    loaded.push(time(() => spawnSync(process.execPath, ['-e', `require(${JSON.stringify(BUNDLE)})`]))[0]);
  }
  report('node -e 0', ms(median(bare)));
  report('node, requiring the handler bundle', ms(median(loaded)));
  report('bundle load time (difference of the medians)', ms(median(loaded) - median(bare)), `${(median(loaded) / median(bare)).toFixed(2)}x a bare start`);
}

async function requestLatency(): Promise<void> {
  console.log('\nA Create request, from asynchronous invocation to the answer, against the emulator');
  const synthesized = synthHandlerStack();
  const cloud = await LocalCloud.start();
  try {
    cloud.cloudfront.addDistribution({ id: SITE });
    const fn = deployInvalidationHandler(cloud, synthesized, STACK_ID);
    const make = requests(fn.arn);
    const [cold] = await timeAsync(() => cloud.request(fn.name, make.create({ Paths: ['/cold'] })));
    const calls = () => cloud.cloudfront.requests.length;
    const warm: number[] = [];
    const unchanged: number[] = [];
    let warmCalls = 0;
    let unchangedCalls = 0;
    for (let i = 0; i < 20; i++) {
      const before = calls();
      warm.push((await timeAsync(() => cloud.request(fn.name, make.create({ Paths: [`/warm/${i}`] }))))[0]);
      warmCalls += calls() - before;
      const props = make.props({ Paths: [`/warm/${i}`] });
      const middle = calls();
      unchanged.push((await timeAsync(() => cloud.request(fn.name, make.update(props, { ...props, TimeoutSeconds: '99' }))))[0]);
      unchangedCalls += calls() - middle;
    }
    report('first request (a new execution environment)', ms(cold));
    report('later Creates, median of 20', ms(median(warm)), `${(warmCalls / 20).toFixed(1)} CloudFront calls each`);
    report('Updates that change nothing, median of 20', ms(median(unchanged)), `${(unchangedCalls / 20).toFixed(1)} CloudFront calls each (recall)`);
  } finally {
    await cloud.close();
  }
}

function planning(): void {
  console.log('\nPlanning (normalize, drop covered paths, batch), median of 9');
  for (const n of [10_000, 100_000]) {
    const paths = Array.from({ length: n }, (_, i) => `/assets/${i % 500}/file-${i}.js`);
    const times = Array.from({ length: 9 }, () => time(() => planBatches(normalizePaths(paths)))[0]);
    report(`${n.toLocaleString('en')} paths`, ms(median(times)), `${planBatches(normalizePaths(paths)).length} batches`);
  }
}

function synthesis(): void {
  console.log('\nSynthesizing a site stack (bucket, BucketDeployment, distribution), median of 5 (alternating)');
  const synth = (invalidations: number) => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-')) });
    const stack = new Stack(app, 'Site', { env: { account: ACCOUNT_ID, region: REGION } });
    const bucket = new s3.Bucket(stack, 'Content');
    const distribution = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    new s3deploy.BucketDeployment(stack, 'Site', { sources: [s3deploy.Source.asset(path.join(SITE_DIR, 'v1'))], destinationBucket: bucket });
    for (let i = 0; i < invalidations; i++) {
      new Invalidation(stack, `Purge${i}`, { distribution, paths: [`/section${i}/*`] });
    }
    app.synth();
  };
  const results = new Map<number, number[]>([[0, []], [1, []], [10, []]]);
  for (let round = 0; round < 5; round++) {
    for (const n of results.keys()) {
      results.get(n)!.push(time(() => synth(n))[0]);
    }
  }
  const base = median(results.get(0)!);
  for (const [n, times] of results) {
    const label = n === 0 ? 'without the construct' : `with ${n} Invalidation${n === 1 ? '' : 's'}`;
    report(label, ms(median(times)), n === 0 ? '' : `${(median(times) / base).toFixed(2)}x without`);
  }
}

async function tenThousand(): Promise<void> {
  console.log('\n10,000 paths against the emulator (completion after 1 s): 4 batches, each once there is room');
  const synthesized = synthHandlerStack();
  for (const wait of [false, true]) {
    const cloud = await LocalCloud.start({ cloudfront: { completionDelayMs: 1000 } });
    try {
      cloud.cloudfront.addDistribution({ id: SITE });
      const fn = deployInvalidationHandler(cloud, synthesized, STACK_ID);
      const paths = Array.from({ length: 10_000 }, (_, i) => `/p/${i}`);
      const request = requests(fn.arn).create({ Paths: paths, WaitForCompletion: String(wait) });
      const [elapsed, { answer }] = await timeAsync(() => cloud.request(fn.name, request));
      const rejected = cloud.cloudfront.requests.filter((r) => r.errorCode === 'TooManyInvalidationsInProgress').length;
      report(wait ? 'waiting for completion' : 'answering once accepted', `${(elapsed / 1000).toFixed(1)} s`,
        `${answer.Status}, ${cloud.cloudfront.requests.length} CloudFront calls, ${rejected} refused for limits, peak ${cloud.cloudfront.peaks.get(SITE)?.paths} paths in progress`);
    } finally {
      await cloud.close();
    }
  }
}

async function main(): Promise<void> {
  if (!fs.existsSync(BUNDLE)) {
    execFileSync('npx', ['projen', 'bundle'], { cwd: ROOT, stdio: 'inherit' });
  }
  console.log(`Benchmarks on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'CPU'}, Node.js ${process.version}`);
  await bundle();
  coldStart();
  await requestLatency();
  planning();
  synthesis();
  await tenThousand();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
