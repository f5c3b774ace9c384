/** DynamoDB's hard item limit (attribute names and values together). */
export const DYNAMODB_ITEM_LIMIT = 400 * 1024;

/**
 * The size DynamoDB charges for an item of string and number attributes: UTF-8 bytes of each
 * name plus value; a number counts about one byte per two significant digits plus one.
 */
export function itemSize(item: Record<string, string | number | undefined>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += Buffer.byteLength(name, 'utf8');
    size +=
      typeof value === 'number'
        ? Math.ceil(String(Math.abs(value)).replace('.', '').length / 2) + 1
        : Buffer.byteLength(value, 'utf8');
  }
  return size;
}
