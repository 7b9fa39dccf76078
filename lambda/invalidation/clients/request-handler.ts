/**
 * How every SDK client of the handler sends its requests. Default configuration otherwise, so that
 * AWS_REGION and AWS_ENDPOINT_URL_* apply as everywhere else. Every call is bounded: the connection,
 * the socket, the whole request (which only logs unless told to throw), and an abort at the time
 * its caller has left (see runtime.ts, callSignal).
 */
import { CONNECTION_TIMEOUT_MS, REQUEST_TIMEOUT_MS, SOCKET_TIMEOUT_MS } from '../budgets';

export const requestHandler = {
  connectionTimeout: CONNECTION_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  throwOnRequestTimeout: true,
  socketTimeout: SOCKET_TIMEOUT_MS,
};
