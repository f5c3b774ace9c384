// Module loader hook (see offline-binary-bodies.mjs): edits two spots of serverless-offline's source as
// it is loaded, so its HTTP API emulation passes request bodies on as API Gateway does.
const BINARY_LIST_END = '"multipart/form-data",';
const PAYLOAD_OPTIONS = 'maxBytes: 1024 * 1024 * 10,\n        parse: false,';

const EDITS = {
  // Kubernetes' protobuf media type joins the binary content types (base64 to the handler, not UTF-8).
  '/serverless-offline/src/utils/index.js': [
    BINARY_LIST_END,
    `${BINARY_LIST_END}\n  "application/vnd.kubernetes.protobuf",`,
  ],
  // hapi checks the Content-Type's syntax even when it does not parse the body, and answered a
  // malformed one (`;`, `application/`, `multipart/form-data` without a boundary) with its own
  // {"statusCode":400,…} instead of the API's Status. Read every body as opaque bytes; the header
  // still reaches the handler unchanged, which answers 415 or 400 as on AWS.
  '/serverless-offline/src/events/http/HttpServer.js': [
    PAYLOAD_OPTIONS,
    `${PAYLOAD_OPTIONS}\n        override: "application/octet-stream",`,
  ],
};

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  const edit = Object.entries(EDITS).find(([suffix]) => url.endsWith(suffix));
  if (!edit) return result;
  const [suffix, [find, replace]] = edit;
  const source = String(result.source);
  if (!source.includes(find)) {
    process.emitWarning(
      `kumo: serverless-offline's ${suffix} no longer has the code this hook edits; request bodies may not reach the API as on AWS`,
    );
    return result;
  }
  return { ...result, source: source.replace(find, replace) };
}
