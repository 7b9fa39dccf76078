// What the package check synthesizes in a scratch app: the bundle check's app (every trigger,
// changedFiles and a nested stack under JSII_DEPRECATED=fail, its handler asset compared with the
// bundle), and each variant of the consumer app, compiled with tsc and synthesized with
// `cdk synth --strict`, with the findings its cloud assembly reports.
'use strict';

const fs = require('fs');
const path = require('path');
const { readFindings } = require('./findings');
const { run } = require('./scratch-app');

const root = path.resolve(__dirname, '..', '..');
/** The bundled handler, and the chunks it loads apart (the SDK clients), as the library ships them. */
const HANDLER = 'assets/lambda/invalidation/index/index.js';
const CHUNKS = ['cloudformation.js', 'lambda.js', 's3.js'].map((f) => path.posix.join(path.posix.dirname(HANDLER), f));
/** The consumer app's variants: the entry each is synthesized from, and the cdk-nag packs it applies. */
const VARIANTS = {
  defaults: { entry: 'defaults.ts', packs: 'AwsSolutions, Serverless' },
  compliance: { entry: 'compliance.ts', packs: 'NIST.800.53.R5, HIPAA.Security, PCI.DSS.321' },
};
/** Template validation's findings are errors, not warnings (aws-cdk-lib's feature flag; older versions ignore it). */
const VALIDATE_AS_ERRORS = '@aws-cdk/core:validateAgainstDefaultRules=true';

/** The CLI runs the app without reaching AWS: no credentials from the environment, no instance metadata, no telemetry. */
function cliEnvironment() {
  const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DISABLE_VERSION_CHECK: '1', AWS_EC2_METADATA_DISABLED: 'true' };
  for (const name of ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
    delete env[name];
  }
  // Template validation runs unless CDK_VALIDATION=false says otherwise.
  delete env.CDK_VALIDATION;
  delete env.JSII_DEPRECATED;
  return env;
}

/** Compiles one variant of the consumer app against the installed package, synthesizes it with the CLI and reads its findings. */
async function checkVariant(app, variant) {
  const entry = VARIANTS[variant].entry;
  const tsconfig = `tsconfig.${variant}.json`;
  fs.writeFileSync(path.join(app, tsconfig), JSON.stringify({
    compilerOptions: { strict: true, target: 'ES2022', lib: ['es2022'], module: 'node16', moduleResolution: 'node16', skipLibCheck: true, types: [], outDir: 'out' },
    files: [entry],
  }, undefined, 2));
  const tsc = await run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { cwd: app });
  if (tsc.code !== 0) {
    return { problem: `the app does not compile against this package (tsc -p ${tsconfig})`, output: tsc.output };
  }
  const outdir = `cdk.out.${variant}`;
  const cdk = path.join(app, 'node_modules', '.bin', 'cdk');
  const synth = await run(cdk, ['synth', '--app', `node out/${entry.replace(/\.ts$/, '.js')}`, '--output', outdir,
    '--strict', '--quiet', '--no-notices', '--no-ec2creds', '--context', VALIDATE_AS_ERRORS], { cwd: app, env: cliEnvironment() });
  if (!fs.existsSync(path.join(app, outdir, 'manifest.json'))) {
    return { problem: `cdk synth wrote no cloud assembly (exit ${synth.code})`, output: synth.output };
  }
  const validates = fs.existsSync(path.join(app, 'node_modules', 'aws-cdk-lib', 'core', 'lib', 'validation', 'cloudformation-validate-plugin.js'));
  return { ...readFindings(path.join(app, outdir)), validates, cliCode: synth.code, cliOutput: synth.output };
}

/**
 * The app of the first check: every trigger, changedFiles and a nested stack, with a deprecated API
 * making synthesis fail. Its handler asset must be `bundle`, the handler as bundled here, and hold
 * the chunks as bundled. Resolves to what is wrong, or undefined.
 */
async function checkBundle(app, bundle) {
  fs.mkdirSync(path.join(app, 'bundle-site'));
  fs.writeFileSync(path.join(app, 'bundle-site', 'index.html'), '<h1>hello</h1>');
  fs.writeFileSync(path.join(app, 'bundle-check.js'), `
    const { App, NestedStack, Stack } = require('aws-cdk-lib');
    const cloudfront = require('aws-cdk-lib/aws-cloudfront');
    const origins = require('aws-cdk-lib/aws-cloudfront-origins');
    const s3 = require('aws-cdk-lib/aws-s3');
    const s3deploy = require('aws-cdk-lib/aws-s3-deployment');
    const { Invalidation, InvalidationPaths, InvalidationTrigger } = require('cdk-cloudfront-invalidation');
    const app = new App({ outdir: 'cdk.out.package' });
    const stack = new Stack(app, 'Consumer');
    const distribution = cloudfront.Distribution.fromDistributionAttributes(stack, 'D', { distributionId: 'E123EXAMPLE', domainName: 'd.cloudfront.net' });
    new Invalidation(stack, 'Invalidate', { distribution, paths: ['/index.html'] });
    const bucket = new s3.Bucket(stack, 'Site');
    const cdn = new cloudfront.Distribution(stack, 'Cdn', { defaultBehavior: { origin: origins.S3BucketOrigin.withOriginAccessControl(bucket) } });
    const deployment = new s3deploy.BucketDeployment(stack, 'Files', { sources: [s3deploy.Source.asset('bundle-site')], destinationBucket: bucket });
    new Invalidation(stack, 'OnDeployment', { distribution: cdn, trigger: InvalidationTrigger.onDeployment(deployment), paths: InvalidationPaths.changedFiles(deployment) });
    new Invalidation(stack, 'OnChange', { distribution: cdn, trigger: InvalidationTrigger.onChangeOf('v1'), paths: ['/api/*'] });
    new Invalidation(new NestedStack(stack, 'Nested'), 'InNested', { distribution: cdn });
    app.synth();
  `);
  const synth = await run(process.execPath, ['bundle-check.js'], { cwd: app, env: { ...process.env, JSII_DEPRECATED: 'fail' } });
  if (synth.code !== 0 || /deprecated/i.test(synth.output)) {
    return `the app did not synthesize cleanly under JSII_DEPRECATED=fail:\n${synth.output}`;
  }
  const out = path.join(app, 'cdk.out.package');
  const template = JSON.parse(fs.readFileSync(path.join(out, 'Consumer.template.json'), 'utf8'));
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function');
  const assets = JSON.parse(fs.readFileSync(path.join(out, 'Consumer.assets.json'), 'utf8'));
  const asset = Object.values(assets.files).find((f) => Object.values(f.destinations).some((d) => d.objectKey === fn.Properties.Code.S3Key));
  if (!fs.readFileSync(path.join(out, asset.source.path, 'index.js')).equals(bundle)) {
    return 'the synthesized handler asset is not the bundled handler';
  }
  if (!Object.values(template.Resources).some((r) => r.Type === 'Custom::CloudFrontInvalidation')) {
    return 'no Custom::CloudFrontInvalidation in the template';
  }
  for (const chunk of CHUNKS) {
    if (!fs.readFileSync(path.join(out, asset.source.path, path.basename(chunk))).equals(fs.readFileSync(path.join(root, chunk)))) {
      return `the handler asset lacks ${path.basename(chunk)} as bundled`;
    }
  }
  return undefined;
}

module.exports = { CHUNKS, HANDLER, VARIANTS, checkBundle, checkVariant };
