// The inside of an emulated Lambda execution environment: loads the handler file once, then runs
// one invocation at a time as the parent sends them, with a context like Lambda's. Plain JavaScript
// so that it runs the bundled handler with nothing in between.
'use strict';

const [file, exportName] = [process.env.LAMBDA_HANDLER_FILE, process.env.LAMBDA_HANDLER_EXPORT];
let handler;
try {
  handler = require(file)[exportName];
  if (typeof handler !== 'function') {
    throw new Error(`${file} does not export a function named ${exportName}`);
  }
} catch (e) {
  process.send({ type: 'init-error', error: { name: e.name, message: e.message } });
  process.exit(1);
}

// Lambda's Node.js runtime (text log format) puts the time, the request id and the level before
// each console line; what a function writes to stdout itself goes to the log as it is.
let requestId = '';
for (const [method, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG']]) {
  console[method] = (...args) => {
    process.stdout.write(`${new Date().toISOString()}\t${requestId}\t${level}\t${require('util').format(...args)}\n`);
  };
}

process.on('message', async (msg) => {
  if (msg.type !== 'invoke') {
    return;
  }
  requestId = msg.requestId;
  const deadline = msg.deadline;
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    invokedFunctionArn: msg.invokedFunctionArn,
    awsRequestId: msg.requestId,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let outcome;
  try {
    const result = await handler(msg.payload, context);
    outcome = { type: 'result', id: msg.id, ok: true, result: result === undefined ? null : result };
  } catch (e) {
    outcome = { type: 'result', id: msg.id, ok: false, error: { name: e && e.name, message: e && e.message } };
  }
  // The end of the invocation's output, then its result: the parent takes both before it is over,
  // so that every line the invocation logged is its own.
  process.stdout.write(`\u0000end ${msg.id}\n`, () => process.send(outcome));
});

process.send({ type: 'ready' });
