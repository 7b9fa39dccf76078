/**
 * The S3 call of the handler: reading a changedFiles manifest from the asset bucket. Bundled apart
 * and loaded on first use (index.ts): only an Invalidation of `InvalidationPaths.changedFiles` needs it.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { requestHandler } from './request-handler';

const client = new S3Client({ requestHandler });

/** The object's content as text; throws when it cannot be read (S3's error code in `name`). */
export async function getObjectText(bucket: string, key: string, signal: AbortSignal): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
  if (!out.Body) {
    throw new Error(`s3://${bucket}/${key} has no body`);
  }
  return out.Body.transformToString('utf8');
}
