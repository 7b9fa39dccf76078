/**
 * Jest's global setup and teardown: every test run gets a temporary folder of its own, which
 * TMPDIR points to for the tests and everything they start (aws-cdk-lib stages assets and writes
 * `Source.data` files there, the Lambda stand-in's workers inherit it), and which goes when the
 * run ends, whatever the tests left in it.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');

const KEY = 'CDK_CLOUDFRONT_INVALIDATION_TEST_TMPDIR';

module.exports.setup = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-cloudfront-invalidation-test-'));
  process.env[KEY] = dir;
  process.env.TMPDIR = dir;
};

module.exports.teardown = async () => {
  const dir = process.env[KEY];
  if (dir && path.basename(dir).startsWith('cdk-cloudfront-invalidation-test-')) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
};
