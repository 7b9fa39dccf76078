/**
 * The per-file content manifest of a deployment: its format, written by the construct at synth
 * (src/changed-files.ts) and read by the handler at deploy (lambda/invalidation/manifests.ts), which
 * works out the paths to purge from two of them (lambda/invalidation/changed-paths.ts). Pure
 * functions only: it must not import aws-cdk-lib or constructs.
 */
import { compareStrings } from './paths';

/** The file name extension of manifest assets: the handler may read objects with it in the asset bucket, and no other. */
export const MANIFEST_EXTENSION = '.invalidation-manifest';

/** The version of the manifest format this library writes and reads. */
export const MANIFEST_FORMAT = 1;

/** What a deployment puts in its bucket, file by file, as known at synth. */
export interface FileManifest {
  readonly format: number;
  /**
   * A hash of the deployment's settings that apply to every object (metadata, content types, cache
   * control): when it changes, every object is served differently.
   */
  readonly settings: string;
  /**
   * Why some objects of the deployment are known only at deploy time (a source such as
   * `Source.bucket` whose files synth cannot see); empty when every object is known.
   */
  readonly unknown: string;
  /**
   * `[object key, content hash]` for every object, sorted by key; the hash is empty for an object
   * whose content is decided at deploy time (a `Source.data` with deploy-time values), which is
   * taken as changed on every deploy.
   */
  readonly files: ReadonlyArray<readonly [string, string]>;
}

/**
 * Reads a manifest from its JSON text.
 *
 * @throws when the text is not a manifest this library can read.
 */
export function parseManifest(text: string): FileManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`the manifest is not JSON: ${(e as Error).message}`);
  }
  const m = value as Partial<FileManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== MANIFEST_FORMAT || typeof m.settings !== 'string' || typeof m.unknown !== 'string'
    || !Array.isArray(m.files) || !m.files.every((f) => Array.isArray(f) && f.length === 2 && typeof f[0] === 'string' && typeof f[1] === 'string')) {
    throw new Error(`the manifest is not in format ${MANIFEST_FORMAT}`);
  }
  return m as FileManifest;
}

/** The JSON text of a manifest, files sorted by key: equal content gives equal text. */
export function renderManifest(manifest: FileManifest): string {
  const files = [...manifest.files].sort((a, b) => compareStrings(a[0], b[0]));
  return JSON.stringify({ format: manifest.format, settings: manifest.settings, unknown: manifest.unknown, files });
}
