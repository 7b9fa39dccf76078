import { awscdk, DependencyType, javascript } from 'projen';

/** Lowest aws-cdk-lib with every API the construct uses (see README, "Compatibility"). */
const CDK_FLOOR = '2.174.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-cloudfront-invalidation',
  description: 'CloudFront cache invalidation on cdk deploy: idempotent, ordered after your content, within CloudFront limits, never failing a deploy for a slow edge.',
  keywords: ['cdk', 'awscdk', 'aws-cdk', 'cloudfront', 'invalidation', 'cache', 'custom-resource'],
  author: 'cdk-cloudfront-invalidation contributors',
  authorAddress: 'maintainers@cdk-cloudfront-invalidation.dev',
  repositoryUrl: 'https://github.com/cdk-cloudfront-invalidation/cdk-cloudfront-invalidation.git',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  github: false,
  release: false,

  cdkVersion: CDK_FLOOR,
  constructsVersion: '10.0.5',
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0',
  minNodeVersion: '20.0.0',

  publishToPypi: {
    distName: 'cdk-cloudfront-invalidation',
    module: 'cdk_cloudfront_invalidation',
  },
  publishToMaven: {
    javaPackage: 'dev.cdkcloudfrontinvalidation',
    mavenGroupId: 'dev.cdk-cloudfront-invalidation',
    mavenArtifactId: 'cdk-cloudfront-invalidation',
  },
  publishToNuget: {
    dotNetNamespace: 'CdkCloudFrontInvalidation',
    packageId: 'CdkCloudFrontInvalidation',
  },
  publishToGo: {
    moduleName: 'github.com/cdk-cloudfront-invalidation/cdk-cloudfront-invalidation-go',
    // The name jsii would derive, given so that rosetta names the package in Go samples as it is
    // (derived, it is taken for a renamed identifier, and a property's value comes out dereferenced).
    packageName: 'cdkcloudfrontinvalidation',
  },

  devDeps: [
    '@aws-sdk/client-cloudfront',
    '@aws-sdk/client-lambda',
    '@aws-sdk/client-cloudformation',
    '@aws-sdk/client-s3',
    '@aws-sdk/credential-provider-env',
    'fast-xml-parser',
    'fast-check',
    'pure-rand',
    // The newest cdk-nag whose peer range accepts the aws-cdk-lib floor.
    'cdk-nag@2.36.50',
  ],
  // Integration tests (test/integ.*.ts) with committed snapshots, checked by integ-runner in `test`.
  experimentalIntegRunner: true,

  jestOptions: {
    // A drifted snapshot must fail the run; `npx projen test:update` rewrites them on purpose.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testTimeout: 60_000,
      // A temporary folder per run, removed when it ends (test/setup/temporary-folder.js).
      globalSetup: '<rootDir>/test/setup/global-setup.js',
      globalTeardown: '<rootDir>/test/setup/global-teardown.js',
    },
  },
  eslintOptions: {
    dirs: ['src', 'lambda'],
    commandOptions: { fix: false },
    devdirs: ['test'],
  },
});

// integ-tests-alpha is released with aws-cdk-lib: this is the newest whose peer range accepts the floor.
project.deps.addDependency('@aws-cdk/integ-tests-alpha@2.173.2-alpha.0', DependencyType.DEVENV);
project.deps.addDependency('@aws-cdk/integ-runner@^2.197.10', DependencyType.DEVENV);

// unrs-resolver (under eslint-import-resolver-typescript) 1.13.0 lacks some platform builds in the
// registry this project installs from, which leaves the lockfile incomplete for `npm ci`.
project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });

// The handler is bundled when the library builds and ships inside the npm package: the entry point
// with the CloudFront client, and, next to it, the CloudFormation and Lambda clients, which the
// entry point loads only when a request needs them (a Create needs none, but S3 for changedFiles manifests).
const handlerBundle = {
  platform: 'node',
  // Runs on the Lambda runtime (Node 22+) and on Node 20 under test: stay within what Node 20 runs.
  target: 'node20',
  format: 'cjs',
  minify: true,
  // ESM builds of the SDK tree-shake; the CommonJS ones do not.
  mainFields: ['module', 'main'],
  // Lambda gives the function its credentials in the environment: no SSO, STS or profile providers.
  esbuildArgs: { '--alias:@aws-sdk/credential-provider-node': './lambda/invalidation/clients/credentials.ts' },
};
project.bundler.addBundle('lambda/invalidation/index.ts', handlerBundle);
for (const client of ['cloudformation', 'lambda', 's3']) {
  project.bundler.addBundle(`lambda/invalidation/clients/${client}.ts`, { ...handlerBundle, outfile: `../../index/${client}.js` });
}
// The handler's SDK clients are devDependencies on purpose: bundled into the asset, never installed by users.
project.eslint?.addOverride({
  files: ['lambda/**/*.ts'],
  rules: { 'import/no-extraneous-dependencies': ['error', { devDependencies: true, optionalDependencies: false, peerDependencies: false }] },
});
// src/shared/ holds exactly what the construct and the handler share (the custom resource's
// contract, the path rules, the manifest format). The handler bundles it, so it may import neither
// aws-cdk-lib nor constructs, nor the rest of src/; and the handler imports nothing of src/ but it.
project.eslint?.addRules({
  'import/no-restricted-paths': ['error', {
    zones: [
      {
        target: './src/shared',
        from: './src',
        except: ['./shared'],
        message: 'src/shared/ is bundled into the handler: import only from src/shared/ here, not the construct\'s code',
      },
      {
        target: './lambda',
        from: './src',
        except: ['./shared'],
        message: 'the handler may import only src/shared/ of src/: move what the construct and the handler both need there',
      },
    ],
  }],
});
// Neither what the handler bundles from src/shared/ nor the handler itself may import aws-cdk-lib or
// constructs: they run in Lambda, where neither is installed.
for (const [files, cdkIn] of [
  ['src/shared/**/*.ts', 'src/shared/ is bundled into the handler: it may not import aws-cdk-lib or constructs'],
  ['lambda/**/*.ts', 'the handler runs in Lambda, where aws-cdk-lib and constructs are not installed: it may not import them'],
]) {
  project.eslint?.addOverride({
    files: [files],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'aws-cdk-lib', message: cdkIn }, { name: 'constructs', message: cdkIn }],
        patterns: [{ group: ['aws-cdk-lib/*', 'constructs/*'], message: cdkIn }],
      }],
    },
  });
}
// Integ snapshots are checked by their templates (assets are not diffed); asset copies stay out of git.
project.gitignore.exclude('/test/*.snapshot/asset.*');

// The package check's consumer app (test/package/consumer/) compiles in a scratch app against the
// packed library (test/package/check-package.js), not against the sources here.
project.tsconfigDev.addExclude('package/consumer');
project.eslint?.addIgnorePattern('test/package/consumer/');
// npm run check-package -- [--only=package,defaults,compliance] [--cli=VERSION] [--nag=VERSION] [aws-cdk-lib VERSION ...]
project.addTask('check-package', {
  description: 'Pack the library and check it as users install it: the handler bundle, cdk synth --strict, cdk-nag and template validation',
  receiveArgs: true,
  steps: [
    { spawn: project.compileTask.name },
    { spawn: 'package:js' },
    { exec: 'node test/package/check-package.js', receiveArgs: true },
  ],
});

// Users get the bundle under assets/, not the handler's sources.
project.npmignore?.exclude('/lambda/', '/.ci/');
// Jest compiles each file alone (isolatedModules), so the tests and the handler are type-checked
// as a whole once, as part of the tests.
project.testTask.spawn(project.addTask('typecheck', {
  description: 'Type-check the tests and the handler',
  steps: [{ exec: 'tsc --noEmit -p test/tsconfig.json' }, { exec: 'tsc --noEmit -p lambda/tsconfig.json' }],
}));

// Tests take the handler from the synthesized cloud assembly, so it must be bundled first; so does
// every way of building or packing the library, however it is started.
project.testTask.prependSpawn(project.bundler.bundleTask);
project.compileTask.prependSpawn(project.bundler.bundleTask);
project.tasks.tryFind('package:js')?.prependSpawn(project.bundler.bundleTask);
// Every synthesis under test fails on a deprecated aws-cdk-lib API.
project.testTask.env('JSII_DEPRECATED', 'fail');

// The main job: deploys the example site several times against the built-in CloudFront emulator.
project.addTask('demo', {
  description: 'Deploy the example site several times against the local CloudFront emulator and show what happens',
  steps: [
    { spawn: project.bundler.bundleTask.name },
    { exec: 'ts-node --transpile-only --project test/tsconfig.json test/demo/main.ts' },
  ],
});

// Every code sample in the README must compile against the built library (fixtures in rosetta/),
// and translate to every language: part of the build, after compile.
const rosetta = project.addTask('rosetta', {
  description: 'Compile the README\'s code samples and check their translations (run after compile)',
  steps: [
    { exec: 'jsii-rosetta extract --strict' },
    { exec: 'node test/package/check-translations.js' },
  ],
});
project.postCompileTask.spawn(rosetta);
project.gitignore.exclude('/.jsii.tabl.json');
project.npmignore?.exclude('/rosetta/');

// Sizes and speeds, measured side by side: npm run bench
// npm run bench -- [item ...] measures the named items only and writes nothing.
project.addTask('bench', {
  description: 'Measure cold start, synthesis, CloudFront calls and correctness against the alternatives; write bench/RESULTS.md',
  receiveArgs: true,
  steps: [
    { spawn: project.bundler.bundleTask.name },
    { exec: 'ts-node --transpile-only --project test/tsconfig.json test/bench/main.ts', receiveArgs: true },
  ],
});

// The property-based lifecycle test at any size: npm run properties -- [steps] [seed] [fault rate] [knobs]
project.addTask('properties', {
  description: 'Run the property-based lifecycle test with more steps than CI does',
  receiveArgs: true,
  steps: [
    { spawn: project.bundler.bundleTask.name },
    { exec: 'ts-node --transpile-only --project test/tsconfig.json test/properties/run.ts', receiveArgs: true },
  ],
});

project.synth();
