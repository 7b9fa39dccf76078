/**
 * The handler's code and the Lambda runtime it runs on.
 */
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** The oldest Node.js the handler is built for (see .projenrc.ts, `target`). */
export const OLDEST_NODE = 20;

/** The Node.js major version of a runtime named `nodejsNN.x`; undefined for any other. */
export function nodeVersion(runtime: lambda.Runtime): number | undefined {
  const match = /^nodejs(\d+)\.x$/.exec(runtime.name);
  return runtime.family === lambda.RuntimeFamily.NODEJS && match ? Number(match[1]) : undefined;
}

/** The newest `nodejsNN.x` runtime the app's aws-cdk-lib knows, as cdk-nag's latest-runtime rules judge it. */
export function newestNodeRuntime(): lambda.Runtime {
  const known = lambda.Runtime.ALL.filter((r) => !r.isVariable && nodeVersion(r) !== undefined);
  return known.reduce((newest, r) => (nodeVersion(r)! > nodeVersion(newest)! ? r : newest));
}

/** Where the bundled handler lands when the library builds (see .projenrc.ts). */
export const HANDLER_ASSET_DIR = path.join(__dirname, '..', 'assets', 'lambda', 'invalidation', 'index');
