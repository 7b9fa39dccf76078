/**
 * bench/RESULTS.md: the table `npm run bench` printed, the details behind some rows, and how each
 * item is measured and each alternative modelled.
 */
import type { Row } from './stats';
import { renderTable } from './stats';

const METHOD = `## How it is measured

1. **Cold start.** Each run is a fresh \`node\` process (test/bench/cold-run.js) that loads a handler
   file, answers one Create whose only work is one CloudFront CreateInvalidation of one path, and
   exits; the time is from spawn to exit. Ours is the bundle in \`assets/lambda/invalidation/index/\`
   with the Lambda-like environment the emulators use (CloudFront and CloudFormation stand-ins on
   127.0.0.1 through \`AWS_ENDPOINT_URL_*\`). AwsCustomResource's is aws-cdk-lib's own handler,
   \`custom-resource-handlers/dist/custom-resources/aws-custom-resource-handler/index.js\`, run as
   shipped, with the \`ResourceProperties\` CDK synthesizes for an \`AwsCustomResource\` calling
   \`createInvalidation\` (\`installLatestAwsSdk: false\`); it loads \`@aws-sdk/client-cloudfront\` from
   node_modules, as the Lambda runtime's built-in SDK would. Both answer by HTTPS PUT to a local
   endpoint on port 443 with a certificate made for the run. \`node -e 0\` is the floor. The three are
   run alternately, the order rotated every round, and the medians compared. "What a Create loads"
   is every file the process opens in the asset directory (traced with strace in one more run),
   minified as shipped and gzipped at level 9 file by file.
2. **Synthesis.** The example site (bucket, distribution, BucketDeployment) synthesized in process,
   alternating the variants; the 400-resource stack adds SQS queues to reach 400 before the purge.
   Resources, Lambda functions, template bytes (the template file) and asset bytes (everything staged
   under \`cdk.out\`) are compared with the same stack without a purge.
3. **Deploy path.** The real bundle in the Lambda stand-in answers one Create against the CloudFront
   emulator (invalidations complete after the delay given); the calls are the emulator's request log,
   the time is from the asynchronous invocation to the answer at the ResponseURL. "300 finished
   before" seeds 300 Completed invalidations on the distribution first. The floor is one
   CreateInvalidation per 3000 paths; the target for a Create that does not wait is 3 calls for one
   path, and the floor plus one ListInvalidations per batch for more.
4. **Ten deploys.** The lifecycle driver (test/driver/driver.ts) plays CloudFormation for each
   contender's stack from a fresh start; a stale deploy is one after which some content change was
   not followed by an invalidation covering it (\`uncoveredChanges\`, test/driver/invariants.ts). The
   alternatives' handlers are modelled (test/bench/alternatives.ts), run by the driver where
   CloudFormation would call them, against the same CloudFront emulator, with IAM not modelled:
   - **AwsCustomResource** (\`onCreate\` = \`onUpdate\` = CreateInvalidation of \`/*\`, after the
     BucketDeployment): on Create and Update, including a rollback's Update back to the old
     properties, it makes the call its properties name with their parameters, as aws-cdk-lib's
     handler does. With \`Date.now()\` the CallerReference, hence the template, changes at every synth:
     every deploy updates it, and a rollback's Update repeats the old reference, for which CloudFront
     returns the old invalidation. With a fixed reference its properties never change after the
     Create, so CloudFormation never calls it again; a redelivery gets the first invalidation back.
   - **BucketDeployment({ distribution })**: after every copy (Create, Update, a rollback's Update
     back; also Delete), CreateInvalidation of \`distributionPaths\` with CallerReference
     \`str(uuid4())\`, then the InvalidationCompleted waiter (GetInvalidation every 20 s, up to 13
     minutes in the real handler; every 50 ms here), as bucket-deployment-handler/index.py does. A
     redelivered request copies and purges again under a new reference.
   - A redelivered request is the last request to the purging resource delivered once more, after it
     was answered (Lambda's retry); for ours, the driver's \`redeliverLast\`.
5. **Over-invalidation.** See test/bench/over-invalidation.ts.
`;

export function resultsPage(rows: readonly Row[], details: readonly string[], run: { seconds: number; machine: string }): string {
  return [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${run.machine}, in ${run.seconds.toFixed(0)} s. Timings are medians of`,
    'runs alternated with what they are compared with, in the same run; compare them within this table, not across machines.',
    '',
    renderTable(rows),
    '',
    ...details.flatMap((d) => [d, '']),
    METHOD,
  ].join('\n');
}
