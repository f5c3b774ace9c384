/**
 * A boolean query parameter as the kube-apiserver reads one (apimachinery's
 * Convert_Slice_string_To_bool): absent is false; "0" and "false" in any letter case are false; any
 * other value, the empty one included, is true. The Python client sends `watch=True`.
 */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v !== null && v !== '0' && v.toLowerCase() !== 'false';
}
