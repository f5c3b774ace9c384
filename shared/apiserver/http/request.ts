/** The transport-neutral request and response the API handler works with (API Gateway, tests, local server). */
export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body?: string;
  /** The body's bytes, for binary media types (protobuf). */
  bodyBytes?: Buffer;
  /** The caller's address as API Gateway saw it (the dev-loopback auth mode needs it). */
  sourceIp?: string;
}

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}
