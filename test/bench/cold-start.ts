/**
 * Item 1, handler cold start: a fresh Node.js process that loads a handler and answers one Create
 * making one CloudFront CreateInvalidation against the emulators, for our bundle and for
 * aws-cdk-lib's AwsCustomResource handler (which loads `@aws-sdk/client-cloudfront` from
 * node_modules, as the Lambda runtime's built-in SDK would), beside `node -e 0`. Both answer over
 * HTTPS, as to a real presigned ResponseURL.
 */
import { spawn, spawnSync } from 'child_process';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { App, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { ItemResult, Row } from './stats';
import { alternate, kb, median, ms, ratio } from './stats';
import { STACK_ID_ENV } from '../../src/shared/contract';
import { freshOutdir, readStack } from '../driver/assembly';
import { requests, SITE, STACK_ID } from '../driver/handler-fixture';
import { ACCOUNT_ID, REGION } from '../driver/local-cloud';
import { CloudFormationEmulator } from '../emulator/cloudformation';
import { CloudFrontEmulator } from '../emulator/cloudfront';

const ROOT = path.resolve(__dirname, '..', '..');
export const ASSET_DIR = path.join(ROOT, 'assets', 'lambda', 'invalidation', 'index');
const RUNNER = path.join(__dirname, 'cold-run.js');
/** aws-cdk-lib's AwsCustomResource handler, as it ships in the package. */
export const AWS_CUSTOM_RESOURCE_HANDLER = path.join(
  path.dirname(require.resolve('aws-cdk-lib/package.json')), 'custom-resource-handlers', 'dist', 'custom-resources', 'aws-custom-resource-handler', 'index.js',
);
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:bench-handler`;
const REPRODUCE = 'npm run bench -- cold-start';
const RUNS = 20;

/**
 * An HTTPS endpoint taking custom-resource answers, with a certificate made for the run. It listens
 * on port 443, as a real ResponseURL does (the AwsCustomResource handler drops the URL's port), of
 * a loopback address of its own so that it meets no other server.
 */
class AnswerServer {
  public static async start(dir: string): Promise<AnswerServer> {
    for (let attempt = 0; ; attempt++) {
      const host = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
      const key = path.join(dir, 'key.pem');
      const cert = path.join(dir, 'cert.pem');
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
        '-days', '1', '-subj', `/CN=${host}`, '-addext', `subjectAltName=IP:${host}`], { stdio: 'ignore' });
      if (made.status !== 0) {
        throw new Error('openssl could not make a certificate for the answer endpoint');
      }
      const server = new AnswerServer(https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }), cert, host);
      try {
        await new Promise<void>((resolve, reject) => server.server.once('error', reject).listen(443, host, resolve));
        return server;
      } catch (e) {
        if (attempt >= 5) {
          throw new Error(`no loopback address to take answers on port 443 (root is needed): ${(e as Error).message}`);
        }
      }
    }
  }

  public readonly answers = new Map<string, { Status?: string; Reason?: string }>();

  private constructor(private readonly server: https.Server, public readonly caFile: string, private readonly host: string) {
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          this.answers.set(String(req.url).split('?')[0].split('/').pop()!, JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          this.answers.set(String(req.url), { Status: 'unreadable' });
        }
        res.writeHead(200);
        res.end();
      });
    });
  }

  public newUrl(): { url: string; token: string } {
    const token = randomUUID();
    return { url: `https://${this.host}/answer/${token}?X-Amz-Signature=bench`, token };
  }

  public async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The ResourceProperties CDK gives an AwsCustomResource that calls CreateInvalidation, with a placeholder for the CallerReference. */
export function awsCustomResourceProperties(paths: readonly string[]): Record<string, unknown> {
  const app = new App({ outdir: freshOutdir('bench-acr-') });
  const stack = new Stack(app, 'AwsCustomResourceBench', { env: { account: ACCOUNT_ID, region: REGION } });
  const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'Cdn', { distributionId: SITE, domainName: `${SITE}.cloudfront.net` });
  new cr.AwsCustomResource(stack, 'Purge', {
    onCreate: {
      service: 'CloudFront',
      action: 'createInvalidation',
      parameters: { DistributionId: SITE, InvalidationBatch: { CallerReference: 'CALLER_REFERENCE', Paths: { Quantity: paths.length, Items: paths } } },
      physicalResourceId: cr.PhysicalResourceId.of('purge'),
    },
    policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [distribution.distributionArn] }),
    // The Lambda runtime's own SDK, as most users run it; `true` would run npm install in the handler.
    installLatestAwsSdk: false,
  });
  const template = readStack(app.synth(), stack.stackName).template;
  const resource = Object.values(template.Resources).find((r) => r.Type === 'Custom::AWS');
  return resource!.Properties as Record<string, unknown>;
}

/** Every file under `dir` that a process opened, from an strace of it. */
function filesOpened(trace: string, dir: string): string[] {
  const out = new Set<string>();
  for (const line of trace.split('\n')) {
    const m = /open(?:at)?\(.*?"([^"]+)".*\)\s+=\s+(\d+)/.exec(line);
    if (m && m[1].startsWith(dir + path.sep) && fs.statSync(m[1], { throwIfNoEntry: false })?.isFile()) {
      out.add(m[1]);
    }
  }
  return [...out].sort();
}

function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
      return code === 0 ? resolve(elapsed) : reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.slice(0, 2000)}`));
    });
  });
}

export async function coldStart(): Promise<ItemResult> {
  console.log(`\n1. Handler cold start: ${RUNS} alternating runs of each`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cold-'));
  const cloudfrontEmulator = await CloudFrontEmulator.start({ accountId: ACCOUNT_ID });
  const cloudformation = await CloudFormationEmulator.start({ resourceStatus: () => 'CREATE_IN_PROGRESS' });
  const answers = await AnswerServer.start(dir);
  try {
    cloudfrontEmulator.addDistribution({ id: SITE });
    cloudformation.setStackStatus(STACK_ID, 'HandlerTest', 'CREATE_IN_PROGRESS');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      TMPDIR: process.env.TMPDIR,
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEHANDLER',
      AWS_SECRET_ACCESS_KEY: 'handler-secret',
      AWS_SESSION_TOKEN: 'handler-session',
      AWS_LAMBDA_FUNCTION_NAME: 'bench-handler',
      AWS_ENDPOINT_URL_CLOUDFRONT: cloudfrontEmulator.endpoint,
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:9',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      NODE_EXTRA_CA_CERTS: answers.caFile,
      BENCH_FUNCTION_ARN: FUNCTION_ARN,
      [STACK_ID_ENV]: STACK_ID,
    };
    const make = requests(FUNCTION_ARN);
    const acrProperties = JSON.stringify(awsCustomResourceProperties(['/cold']));
    const ours = () => {
      const { url } = answers.newUrl();
      return { ...env, BENCH_HANDLER_FILE: path.join(ASSET_DIR, 'index.js'), BENCH_HANDLER_EXPORT: 'handler', BENCH_EVENT: JSON.stringify({ ...make.create({ Paths: ['/cold'] }), ResponseURL: url }) };
    };
    const theirs = () => {
      const { url } = answers.newUrl();
      const event = {
        ...make.request({
          LogicalResourceId: 'Purge',
          ResourceType: 'Custom::AWS',
          ResourceProperties: JSON.parse(acrProperties.replace('CALLER_REFERENCE', String(Date.now()) + randomUUID().slice(0, 8))),
        }),
        ResponseURL: url,
      };
      return { ...env, BENCH_HANDLER_FILE: AWS_CUSTOM_RESOURCE_HANDLER, BENCH_HANDLER_EXPORT: 'handler', BENCH_EVENT: JSON.stringify(event) };
    };
    // One untimed run of each first: warms the file cache, and checks that both answer SUCCESS.
    const calls = (from: number) => cloudfrontEmulator.requests.slice(from).map((r) => r.operation);
    let mark = cloudfrontEmulator.requests.length;
    await runNode([RUNNER], ours());
    const ourCalls = calls(mark);
    const ourDescribes = cloudformation.describeCalls.length;
    mark = cloudfrontEmulator.requests.length;
    await runNode([RUNNER], theirs());
    const theirCalls = calls(mark);
    const failed = [...answers.answers.values()].filter((a) => a.Status !== 'SUCCESS');
    if (failed.length > 0 || answers.answers.size !== 2) {
      throw new Error(`a cold-start Create did not answer SUCCESS: ${JSON.stringify(failed)}`);
    }
    const samples = await alternate(RUNS, {
      bare: () => runNode(['-e', '0'], env),
      ours: () => runNode([RUNNER], ours()),
      awsCustomResource: () => runNode([RUNNER], theirs()),
    });
    const bad = [...answers.answers.values()].filter((a) => a.Status !== 'SUCCESS').length;
    const [bare, ourMs, theirMs] = [median(samples.bare), median(samples.ours), median(samples.awsCustomResource)];

    // What a Create reads from the asset directory, traced in one more, untimed run.
    const tracePath = path.join(dir, 'trace.txt');
    const traced = await new Promise<number | null>((resolve) => {
      const child = spawn('strace', ['-f', '-e', 'trace=open,openat', '-o', tracePath, process.execPath, RUNNER], { env: ours(), stdio: 'ignore' });
      child.on('error', () => resolve(null)).on('exit', resolve);
    });
    const loaded = traced === 0 ? filesOpened(fs.readFileSync(tracePath, 'utf8'), ASSET_DIR) : [path.join(ASSET_DIR, 'index.js')];
    const loadedBytes = loaded.reduce((n, f) => n + fs.statSync(f).size, 0);
    const loadedGzip = loaded.reduce((n, f) => n + gzipSync(fs.readFileSync(f), { level: 9 }).length, 0);
    const allFiles = fs.readdirSync(ASSET_DIR, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    const allBytes = allFiles.reduce((n, e) => n + fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size, 0);

    const rows: Row[] = [
      { section: '1 cold start', measure: 'node -e 0', value: ms(bare), compared: `median of ${RUNS}`, reproduce: REPRODUCE },
      {
        section: '1 cold start',
        measure: 'our handler: fresh process, one Create',
        value: ms(ourMs),
        compared: `${ratio(ourMs, theirMs)} AwsCustomResource's (target 0.75x); ${ratio(ourMs, bare)} node -e 0; `
          + `CloudFront calls: ${ourCalls.join(', ')}; CloudFormation DescribeStacks: ${ourDescribes}`,
        reproduce: REPRODUCE,
      },
      {
        section: '1 cold start',
        measure: 'AwsCustomResource handler: fresh process, one Create',
        value: ms(theirMs),
        compared: `${ratio(theirMs, bare)} node -e 0; CloudFront calls: ${theirCalls.join(', ')}`,
        reproduce: REPRODUCE,
      },
      {
        section: '1 cold start',
        measure: 'our handler above node -e 0',
        value: ms(ourMs - bare),
        compared: `AwsCustomResource's: ${ms(theirMs - bare)} (${ratio(ourMs - bare, theirMs - bare)})`,
        reproduce: REPRODUCE,
      },
      {
        section: '1 bundle',
        measure: `what a Create loads, minified (${loaded.length} file${loaded.length === 1 ? '' : 's'})`,
        value: kb(loadedBytes),
        compared: `target 400 KB; asset directory ${kb(allBytes)} in ${allFiles.length} file(s)`,
        reproduce: REPRODUCE,
      },
      { section: '1 bundle', measure: 'what a Create loads, gzipped (level 9, file by file)', value: kb(loadedGzip), reproduce: REPRODUCE },
    ];
    if (bad > 0) {
      rows.push({ section: '1 cold start', measure: 'runs that did not answer SUCCESS', value: String(bad), reproduce: REPRODUCE });
    }
    return { rows };
  } finally {
    await Promise.all([answers.close(), cloudfrontEmulator.close(), cloudformation.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
