/**
 * Every error the CloudFront emulator (`./cloudfront.ts`, `./cloudfront-wire.ts` and
 * `./cloudfront-limits.ts`) answers, in one table: its code, HTTP status, fault type, message
 * templates and where the fact comes from (a section of docs/cloudfront.md). The emulator builds
 * each error from here with `cloudFrontError`; nothing else spells a code, a status or a message.
 * To add an error, see CONTRIBUTING.md, "Add a CloudFront error to the emulator".
 */

export interface CloudFrontErrorSpec {
  readonly status: number;
  /** `Sender` for the caller's faults, `Receiver` for CloudFront's own. */
  readonly type: 'Sender' | 'Receiver';
  /**
   * The messages, by the case that answers them. `{name}` is filled from the parameters given to
   * `cloudFrontError`.
   */
  readonly messages: Readonly<Record<string, string>>;
  /** Where the code, status and case are stated: a section of docs/cloudfront.md. */
  readonly source: string;
}

const HANDLER_MEETS = 'docs/cloudfront.md, "Errors the handler meets"';
const OTHER_ERRORS = 'docs/cloudfront.md, "Other errors the emulator answers"';

export const CLOUDFRONT_ERRORS = {
  AccessDenied: {
    status: 403,
    type: 'Sender',
    messages: {
      notAuthorized: 'User: arn:aws:sts::{account}:assumed-role/handler-role/handler is not authorized to perform: {action} on resource: {resource}',
    },
    source: HANDLER_MEETS,
  },
  NoSuchDistribution: {
    status: 404,
    type: 'Sender',
    messages: { unknown: 'The specified distribution does not exist.' },
    source: HANDLER_MEETS,
  },
  NoSuchInvalidation: {
    status: 404,
    type: 'Sender',
    messages: { unknown: 'The specified invalidation does not exist.' },
    source: HANDLER_MEETS,
  },
  EntityNotFound: {
    status: 404,
    type: 'Sender',
    messages: { unknownTenant: 'The distribution tenant {tenant} does not exist.' },
    source: HANDLER_MEETS,
  },
  InvalidArgument: {
    status: 400,
    type: 'Sender',
    messages: {
      invalidPaths: 'Your request contains one or more invalid invalidation paths.',
      callerReferenceReused: 'Your request contains a caller reference that was used for a previous invalidation batch for the same distribution.',
      invalidMaxItems: 'The value {maxItems} for MaxItems is invalid: it must be a whole number of at least 1.',
      unknownMarker: 'The value {marker} for Marker is invalid: it must be the id of an invalidation of this distribution or tenant.',
    },
    source: `${HANDLER_MEETS}; docs/cloudfront.md, "CallerReference" and "Limits and paths"; ${OTHER_ERRORS}`,
  },
  TooManyInvalidationsInProgress: {
    status: 400,
    type: 'Sender',
    messages: {
      wildcards: 'Processing your request will cause you to exceed the maximum number of in-progress wildcard invalidations.',
      paths: 'Processing your request will cause you to exceed the maximum number of in-progress invalidations.',
    },
    source: `${HANDLER_MEETS}; docs/cloudfront.md, "Limits and paths"`,
  },
  Throttling: {
    status: 400,
    type: 'Sender',
    messages: { rateExceeded: 'Rate exceeded' },
    source: HANDLER_MEETS,
  },
  ServiceUnavailable: {
    status: 503,
    type: 'Receiver',
    messages: { internal: 'CloudFront encountered an internal error. Please try again.' },
    source: HANDLER_MEETS,
  },
  BatchTooLarge: {
    status: 413,
    type: 'Sender',
    messages: { tooLarge: 'Invalidation batch specified is too large.' },
    source: `${OTHER_ERRORS}; docs/cloudfront.md, "Limits and paths"`,
  },
  InconsistentQuantities: {
    status: 400,
    type: 'Sender',
    messages: { mismatch: 'The value of Quantity and the size of Items don\'t match.' },
    source: OTHER_ERRORS,
  },
  MissingBody: {
    status: 400,
    type: 'Sender',
    messages: { emptyBody: 'This operation requires a body. Ensure that the body is present and the Content-Type header is set.' },
    source: OTHER_ERRORS,
  },
  MalformedXML: {
    status: 400,
    type: 'Sender',
    messages: { notWellFormed: 'The XML document you provided was not well-formed or did not validate against our published schema.' },
    source: OTHER_ERRORS,
  },
  MissingAuthenticationToken: {
    status: 403,
    type: 'Sender',
    messages: { unsigned: 'Request is missing a SigV4 signature for service cloudfront' },
    source: OTHER_ERRORS,
  },
  NotFound: {
    status: 404,
    type: 'Sender',
    messages: { noRoute: 'No route for {method} {path}' },
    source: OTHER_ERRORS,
  },
  InternalError: {
    status: 500,
    type: 'Receiver',
    messages: { emulatorBug: '{error}' },
    source: OTHER_ERRORS,
  },
} as const satisfies Record<string, CloudFrontErrorSpec>;

export type CloudFrontErrorCode = keyof typeof CLOUDFRONT_ERRORS;

/** An error the emulator answers: the handler catches it and writes the REST-XML error body. */
export class CloudFrontApiError extends Error {
  constructor(readonly status: number, readonly code: CloudFrontErrorCode, message: string, readonly type: 'Sender' | 'Receiver') {
    super(message);
  }
}

/**
 * The error `code` in the case `why` of its table entry, its message's `{name}`s filled from
 * `params`.
 */
export function cloudFrontError<C extends CloudFrontErrorCode>(
  code: C,
  why: keyof (typeof CLOUDFRONT_ERRORS)[C]['messages'],
  params: Readonly<Record<string, string>> = {},
): CloudFrontApiError {
  const spec: CloudFrontErrorSpec = CLOUDFRONT_ERRORS[code];
  const template = spec.messages[why as string];
  const message = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in params)) {
      throw new Error(`CloudFront error ${code} (${String(why)}) needs the parameter ${name}`);
    }
    return params[name];
  });
  return new CloudFrontApiError(spec.status, code, message, spec.type);
}
