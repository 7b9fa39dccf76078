/**
 * The Lambda call of the handler: starting a fresh invocation of itself. Bundled apart and loaded
 * on first use (index.ts): only a hand-over needs it.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { requestHandler } from './request-handler';

const client = new LambdaClient({ requestHandler });

/** Invokes the function asynchronously with the payload; throws when Lambda refuses. */
export async function invokeAsync(functionArn: string, payload: string): Promise<void> {
  await client.send(new InvokeCommand({ FunctionName: functionArn, InvocationType: 'Event', Payload: Buffer.from(payload) }));
}
