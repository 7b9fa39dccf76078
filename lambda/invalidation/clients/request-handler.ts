/**
 * How every SDK client of the handler sends its requests. Default configuration otherwise, so that
 * AWS_REGION and AWS_ENDPOINT_URL_* apply as everywhere else. Every call is bounded: the connection,
 * the socket, the whole request (which only logs unless told to throw), and an abort at the time
 * its caller has left (see runtime.ts, callSignal).
 */
export const requestHandler = { connectionTimeout: 5_000, requestTimeout: 30_000, throwOnRequestTimeout: true, socketTimeout: 30_000 };
