/**
 * The AWS side, on this machine: CloudFront, Lambda, CloudFormation and EventBridge stand-ins, wired
 * so that a handler running in the Lambda stand-in reaches the others through the standard
 * AWS_ENDPOINT_URL_* variables, with the IAM its template gives it.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { HandlerFunction, SynthesizedStack } from './assembly';
import { invalidationHandler } from './assembly';
import type { Authorizer } from './iam';
import { authorizer, roleStatements } from './iam';
import type { ResolveContext } from './intrinsics';
import { resolve } from './intrinsics';
import type { CloudFormationRequest } from '../../lambda/invalidation/protocol';
import { CloudFormationEmulator } from '../emulator/cloudformation';
import type { ReceivedAnswer } from '../emulator/cloudformation-response-urls';
import { CloudFrontEmulator } from '../emulator/cloudfront';
import type { CloudFrontEmulatorOptions } from '../emulator/cloudfront';
import { EventBridgeEmulator } from '../emulator/eventbridge';
import type { StackIdForm } from '../emulator/eventbridge-events';
import { LambdaEmulator } from '../emulator/lambda';
import { S3Emulator } from '../emulator/s3';

export interface LocalCloudOptions {
  readonly cloudfront?: Omit<CloudFrontEmulatorOptions, 'authorize' | 'accountId'>;
  /** Overrides the functions' Timeout, to exercise hand-overs without waiting 15 minutes. */
  readonly lambdaTimeoutMs?: number;
  /** Delays of Lambda's retries of failed asynchronous invocations. */
  readonly retryDelaysMs?: readonly [number, number];
  /** How long a new or changed EventBridge rule takes to match events (PutRule). @default 0 */
  readonly ruleChangeDelayMs?: number;
  /** The form of `detail.stack-id` in the stack status events CloudFormation sends. @default 'arn' */
  readonly stackIdForm?: StackIdForm;
  /** How many events a DescribeStackEvents page holds at most. @default 100 */
  readonly eventsPageSize?: number;
}

export const ACCOUNT_ID = '123456789012';
export const REGION = 'eu-west-1';

export class LocalCloud {
  public static async start(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    const cloud = new LocalCloud(options);
    const authorize = (action: string, arn: string) => cloud.authorizer(action, arn);
    cloud.cloudfront = await CloudFrontEmulator.start({ ...options.cloudfront, authorize, accountId: ACCOUNT_ID, sequence: () => cloud.tick() });
    cloud.lambda = await LambdaEmulator.start({ authorize, retryDelaysMs: options.retryDelaysMs });
    const physicalId = (stackId: string, logicalId: string) => cloud.physicalIds(stackId, logicalId);
    const resourceStatus = (stackId: string, logicalId: string) => cloud.resourceStatuses(stackId, logicalId);
    cloud.cloudformation = await CloudFormationEmulator.start({ authorize, physicalId, resourceStatus, eventsPageSize: options.eventsPageSize });
    const queueAccepts = (queueArn: string, ruleArn: string) => cloud.queueAccepts(queueArn, ruleArn);
    cloud.eventbridge = new EventBridgeEmulator({
      lambda: cloud.lambda, tick: () => cloud.tick(), queueAccepts, ruleChangeDelayMs: options.ruleChangeDelayMs,
    });
    cloud.s3 = await S3Emulator.start({ authorize });
    return cloud;
  }

  public cloudfront!: CloudFrontEmulator;
  public lambda!: LambdaEmulator;
  public cloudformation!: CloudFormationEmulator;
  public eventbridge!: EventBridgeEmulator;
  public s3!: S3Emulator;
  private sequence = 0;
  private constructor(private readonly options: LocalCloudOptions) {}

  /** IAM of the handler; everything is allowed until a template's policy is installed. */
  public authorizer: Authorizer = () => true;

  /** The next place in the sequence shared by CloudFront's requests and the driver's events. */
  public tick(): number {
    return ++this.sequence;
  }

  /** The form of `detail.stack-id` in stack status events. */
  public get stackIdForm(): StackIdForm {
    return this.options.stackIdForm ?? 'arn';
  }

  /** Physical ids of stack resources, for DescribeStackResource; the lifecycle driver supplies them. */
  public physicalIds: (stackId: string, logicalId: string) => string | undefined = () => undefined;

  /** Statuses of stack resources, for DescribeStackResource; the lifecycle driver supplies them. */
  public resourceStatuses: (stackId: string, logicalId: string) => string | undefined = () => undefined;

  /** Whether a dead-letter queue exists and lets EventBridge send to it for the rule; the lifecycle driver supplies it. */
  public queueAccepts: (queueArn: string, ruleArn: string) => boolean = () => true;

  /**
   * Registers a function's real code with the Lambda stand-in, with a Lambda-like environment plus
   * the function's own variables (its template's Environment.Variables, resolved).
   */
  public deployFunction(
    name: string, fn: HandlerFunction, settings: { env?: Record<string, string>; deadLetterArn?: string } = {},
  ): { name: string; arn: string } {
    const arn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;
    this.lambda.register({
      name,
      arn,
      codeDir: fn.codeDir,
      handler: fn.handler,
      timeoutMs: this.options.lambdaTimeoutMs ?? fn.timeoutSeconds * 1000,
      deadLetterArn: settings.deadLetterArn,
      env: {
        ...settings.env,
        AWS_REGION: REGION,
        AWS_DEFAULT_REGION: REGION,
        AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEHANDLER',
        AWS_SECRET_ACCESS_KEY: 'handler-secret',
        AWS_SESSION_TOKEN: 'handler-session',
        AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        AWS_ENDPOINT_URL_CLOUDFRONT: this.cloudfront.endpoint,
        AWS_ENDPOINT_URL_LAMBDA: this.lambda.endpoint,
        AWS_ENDPOINT_URL_CLOUDFORMATION: this.cloudformation.endpoint,
        AWS_ENDPOINT_URL_S3: this.s3.endpoint,
        // The AWS SDK warns about Node 20 ahead of its deadline; the Lambda runtime is newer.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    return { name, arn };
  }

  /**
   * Sends a custom-resource request to the function the way CloudFormation does (an asynchronous
   * invocation with a fresh presigned ResponseURL) and waits for the answer.
   */
  public async request(functionName: string, event: Omit<CloudFormationRequest, 'ResponseURL'>, timeoutMs = 60_000): Promise<ReceivedAnswer & { responseUrlSecret: string }> {
    const { url, token, secret } = this.cloudformation.newResponseUrl();
    this.lambda.invokeAsync(functionName, { ...event, ResponseURL: url });
    const answer = await this.cloudformation.awaitAnswer(token, timeoutMs);
    return { ...answer, responseUrlSecret: secret };
  }

  /** Sends a request without waiting: returns the token to wait on. */
  public send(functionName: string, event: Omit<CloudFormationRequest, 'ResponseURL'>): { token: string; secret: string; redeliver: () => void } {
    const { url, token, secret } = this.cloudformation.newResponseUrl();
    const payload = { ...event, ResponseURL: url };
    this.lambda.invokeAsync(functionName, payload);
    return { token, secret, redeliver: () => this.lambda.invokeAsync(functionName, payload) };
  }

  public async close(): Promise<void> {
    await Promise.all([this.lambda?.close(), this.cloudfront?.close(), this.cloudformation?.close(), this.s3?.close()]);
  }

  /**
   * Publishes the file assets of a cloud assembly to the S3 stand-in, as `cdk deploy` does before
   * it deploys: each file (not directory) asset at its destination, the bootstrap bucket's name
   * resolved for this account and region. Assets published before stay, as in the real asset bucket.
   */
  public publishFileAssets(assemblyDir: string): void {
    for (const entry of fs.readdirSync(assemblyDir).filter((f) => f.endsWith('.assets.json'))) {
      const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, entry), 'utf8')) as {
        files?: Record<string, {
          source: { path?: string; packaging?: string };
          destinations: Record<string, { bucketName: string; objectKey: string }>;
        }>;
      };
      for (const file of Object.values(manifest.files ?? {})) {
        const source = file.source.path ? path.join(assemblyDir, file.source.path) : undefined;
        if (!source || file.source.packaging === 'zip' || !fs.existsSync(source) || !fs.statSync(source).isFile()) {
          continue;
        }
        for (const d of Object.values(file.destinations)) {
          const bucket = d.bucketName.replace(/\$\{AWS::AccountId\}/g, ACCOUNT_ID).replace(/\$\{AWS::Region\}/g, REGION).replace(/\$\{AWS::Partition\}/g, 'aws');
          if (!this.s3.hasObject(bucket, d.objectKey)) {
            this.s3.putObject(bucket, d.objectKey, fs.readFileSync(source));
          }
        }
      }
    }
  }
}

/**
 * Deploys a synthesized stack's invalidation handler to the local cloud: its real bundled code, and
 * its role's policies as the IAM every local service enforces.
 */
export function deployInvalidationHandler(cloud: LocalCloud, stack: SynthesizedStack, stackId: string): { name: string; arn: string } {
  const fn = invalidationHandler(stack);
  const name = `${stack.stackName}-InvalidationHandler`;
  const arn = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;
  const ctx: ResolveContext = {
    accountId: ACCOUNT_ID,
    region: REGION,
    partition: 'aws',
    stackId,
    stackName: stack.stackName,
    ref: (id) => `${id}-physical`,
    getAtt: (id, attr) => (id === fn.logicalId && attr === 'Arn' ? arn : `arn:aws:local:${REGION}:${ACCOUNT_ID}:${id}/${attr}`),
  };
  const variables = (stack.template.Resources[fn.logicalId].Properties?.Environment as { Variables?: unknown } | undefined)?.Variables;
  const env = variables ? resolve(variables, ctx) as Record<string, string> : {};
  const deployed = cloud.deployFunction(name, fn, { env });
  cloud.authorizer = authorizer(roleStatements(stack.template, fn.roleLogicalId, ctx));
  // Requests sent by hand come from a deploy going forward, for resources that wait for them,
  // unless the caller says otherwise.
  if (cloud.cloudformation.stackStatus(stackId) === undefined) {
    cloud.cloudformation.setStackStatus(stackId, stack.stackName, 'UPDATE_IN_PROGRESS');
  }
  cloud.resourceStatuses = () => 'UPDATE_IN_PROGRESS';
  return deployed;
}
