/**
 * Reads what a synthesized CDK app left in its cloud assembly (cdk.out): templates, and the
 * directories of the assets their Lambda functions deploy.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { RESOURCE_TYPE } from '../../src/shared/contract';

const outdirs = new Set<string>();

// Under jest, each test file that synthesizes removes what it made once its tests are done.
if (typeof afterAll === 'function') {
  afterAll(removeOutdirs);
}

/**
 * A fresh directory under the temporary folder for a cloud assembly, removed after a jest test
 * file's tests, when the process exits, or by `removeOutdirs`: tests and the demo leave nothing
 * behind.
 */
export function freshOutdir(prefix: string): string {
  if (outdirs.size === 0) {
    process.once('exit', removeOutdirs);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  outdirs.add(dir);
  return dir;
}

/** Removes every directory `freshOutdir` made so far. */
export function removeOutdirs(): void {
  for (const dir of outdirs) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  outdirs.clear();
}

/**
 * Deletes the zipped file assets of a cloud assembly (such as the AWS CLI layer every
 * BucketDeployment stages, over 20 MB): the driver never reads them, and a test synthesizes many.
 */
export function dropArchives(assemblyDir: string): void {
  for (const entry of fs.readdirSync(assemblyDir)) {
    if (/^asset\..*\.zip$/.test(entry)) {
      fs.rmSync(path.join(assemblyDir, entry), { force: true });
    }
  }
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  /** `Delete` (the default), `Retain`, `RetainExceptOnCreate` or `Snapshot`. */
  readonly DeletionPolicy?: string;
  /** `Delete` (the default), `Retain` or `Snapshot`. */
  readonly UpdateReplacePolicy?: string;
  readonly Condition?: string;
  readonly Metadata?: Record<string, unknown>;
}

export interface Template {
  readonly Resources: Record<string, TemplateResource>;
  readonly Parameters?: Record<string, { Type: string; Default?: string }>;
  /** Condition functions by name (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`). */
  readonly Conditions?: Record<string, unknown>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown }; Condition?: string }>;
}

export interface SynthesizedStack {
  readonly stackName: string;
  readonly template: Template;
  /** The cloud assembly directory the stack came from. */
  readonly assemblyDir: string;
  /** Asset source directories by S3 object key (`<hash>.zip`). */
  readonly assetDirs: ReadonlyMap<string, string>;
}

export function readStack(assembly: CloudAssembly, stackName: string): SynthesizedStack {
  const artifact = assembly.getStackByName(stackName);
  const assetDirs = new Map<string, string>();
  const manifestFile = path.join(assembly.directory, `${artifact.id}.assets.json`);
  if (fs.existsSync(manifestFile)) {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as {
      files?: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
    };
    for (const file of Object.values(manifest.files ?? {})) {
      for (const d of Object.values(file.destinations)) {
        assetDirs.set(d.objectKey, path.join(assembly.directory, file.source.path));
      }
    }
  }
  return { stackName, template: artifact.template as Template, assemblyDir: assembly.directory, assetDirs };
}

export interface HandlerFunction {
  readonly logicalId: string;
  readonly roleLogicalId: string;
  readonly codeDir: string;
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly runtime: string;
}

/** The function behind the stack's Custom::CloudFrontInvalidation resources, and its asset. */
export function invalidationHandler(stack: SynthesizedStack): HandlerFunction {
  const tokens = Object.values(stack.template.Resources)
    .filter((r) => r.Type === RESOURCE_TYPE)
    .map((r) => (r.Properties?.ServiceToken as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
  const ids = [...new Set(tokens)];
  if (ids.length !== 1) {
    throw new Error(`expected one invalidation handler in ${stack.stackName}, found ${ids.length}`);
  }
  return functionAt(stack, ids[0]);
}

export function functionAt(stack: SynthesizedStack, logicalId: string): HandlerFunction {
  const fn = stack.template.Resources[logicalId];
  const props = fn.Properties as { Code: { S3Key: string }; Handler: string; Timeout?: number; Runtime: string; Role: { 'Fn::GetAtt': [string, string] } };
  const codeDir = stack.assetDirs.get(props.Code.S3Key);
  if (!codeDir) {
    throw new Error(`no asset for ${logicalId} (${props.Code.S3Key}) in ${stack.assemblyDir}`);
  }
  return {
    logicalId,
    roleLogicalId: props.Role['Fn::GetAtt'][0],
    codeDir,
    handler: props.Handler,
    timeoutSeconds: props.Timeout ?? 3,
    runtime: props.Runtime,
  };
}
