// Module loader hook (see offline-binary-bodies.mjs): adds Kubernetes' protobuf media type to
// serverless-offline's list of binary content types as its source is loaded.
const LIST_END = '"multipart/form-data",';

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!url.endsWith('/serverless-offline/src/utils/index.js')) return result;
  const source = String(result.source);
  if (!source.includes(LIST_END)) {
    process.emitWarning('kumo: serverless-offline no longer has the binary content types this hook extends; protobuf request bodies may arrive corrupted');
    return result;
  }
  return { ...result, source: source.replace(LIST_END, `${LIST_END}\n  "application/vnd.kubernetes.protobuf",`) };
}
