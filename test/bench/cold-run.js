// A fresh Node.js process that loads one custom-resource handler and runs one invocation, as a new
// Lambda execution environment would: `npm run bench` times it from spawn to exit. Plain
// JavaScript, so that nothing stands between Node.js and the handler file.
'use strict';

const file = process.env.BENCH_HANDLER_FILE;
const exportName = process.env.BENCH_HANDLER_EXPORT;
const event = JSON.parse(process.env.BENCH_EVENT);
const deadline = Date.now() + 60_000;
const context = {
  functionName: 'bench-handler',
  invokedFunctionArn: process.env.BENCH_FUNCTION_ARN,
  awsRequestId: 'bench-cold-start',
  logStreamName: 'bench-cold-start',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};

Promise.resolve()
  .then(() => require(file)[exportName](event, context))
  .then(() => process.exit(0), (e) => {
    process.stderr.write(`${e && e.stack || e}\n`);
    process.exit(1);
  });
