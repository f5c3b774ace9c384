import { observeRequests } from '../shared/aws/lite/dynamo-document.js';

/**
 * Counts the DynamoDB requests this process sends, at the client the stores really use (the lite
 * document client): by action and what it touches (index, or the kind in the partition key), plus
 * the totals a cost estimate needs. A benchmark that counts somewhere the code does not go reads
 * zero; `requireCounted` turns that into a failure instead of a figure.
 */

type Attrs = Record<string, unknown> | undefined;
type Op = { Key?: Attrs; Item?: Attrs };
type WriteRequest = { PutRequest?: { Item: Attrs }; DeleteRequest?: { Key: Attrs } };

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const SINGLE_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

export interface CensusTotals {
  requests: number;
  readRequests: number;
  writeRequests: number;
  /** Items written: one per single write, per transaction item (condition checks excluded), per batch entry. */
  itemWrites: number;
}

export interface CensusTake extends CensusTotals {
  /** Requests by action and target, largest first. */
  byTarget: [string, number][];
  /** Item writes by kind, largest first. */
  itemWritesByKind: [string, number][];
}

const kindOf = (item: Attrs) => (typeof item?.pk === 'string' ? item.pk.split('#')[0] : '?') ?? '?';
const kinds = (items: Attrs[]) => `[${[...new Set(items.map(kindOf))].sort().join(',')}]`;
const transactOps = (i: Record<string, unknown>) =>
  ((i.TransactItems ?? []) as Record<string, Op>[]).map((t) => ({
    check: 'ConditionCheck' in t,
    op: Object.values(t)[0],
  }));
const batchWrites = (i: Record<string, unknown>) =>
  Object.values((i.RequestItems ?? {}) as Record<string, WriteRequest[]>).flat();

function target(action: string, i: Record<string, unknown>): string {
  if (i.IndexName) return `${action} ${String(i.IndexName)}`;
  if (i.Key || i.Item) return `${action} ${kindOf((i.Key ?? i.Item) as Attrs)}`;
  if (action === 'Query') return `${action} ${kindOf({ pk: (i.ExpressionAttributeValues as Attrs)?.[':pk'] })}`;
  if (action === 'TransactWriteItems') return `${action} ${kinds(transactOps(i).map(({ op }) => op?.Key ?? op?.Item))}`;
  if (action === 'BatchWriteItem')
    return `${action} ${kinds(batchWrites(i).map((w) => w.PutRequest?.Item ?? w.DeleteRequest?.Key))}`;
  if (action === 'BatchGetItem')
    return `${action} ${kinds(Object.values((i.RequestItems ?? {}) as Record<string, { Keys?: Attrs[] }>).flatMap((r) => r.Keys ?? []))}`;
  return action;
}

function writtenKinds(action: string, i: Record<string, unknown>): string[] {
  if (SINGLE_WRITES.has(action)) return [kindOf((i.Key ?? i.Item) as Attrs)];
  if (action === 'TransactWriteItems')
    return transactOps(i)
      .filter((t) => !t.check)
      .map(({ op }) => kindOf(op?.Key ?? op?.Item));
  if (action === 'BatchWriteItem') return batchWrites(i).map((w) => kindOf(w.PutRequest?.Item ?? w.DeleteRequest?.Key));
  return [];
}

export function dynamoCensus() {
  const byTarget = new Map<string, number>();
  const byKind = new Map<string, number>();
  const totals: CensusTotals = { requests: 0, readRequests: 0, writeRequests: 0, itemWrites: 0 };
  const tally = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const stop = observeRequests((action, input) => {
    totals.requests++;
    if (READS.has(action)) totals.readRequests++;
    else totals.writeRequests++;
    tally(byTarget, target(action, input));
    for (const kind of writtenKinds(action, input)) {
      totals.itemWrites++;
      tally(byKind, kind);
    }
  });
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    /** What was counted since the last take, and a fresh start. */
    take(): CensusTake {
      const out = { ...totals, byTarget: sorted(byTarget), itemWritesByKind: sorted(byKind) };
      byTarget.clear();
      byKind.clear();
      Object.assign(totals, { requests: 0, readRequests: 0, writeRequests: 0, itemWrites: 0 });
      return out;
    },
    stop,
  };
}

/** A figure from a counter that saw nothing after work that must have written is a bug, not a figure. */
export function requireCounted(t: CensusTotals, work: string): void {
  if (t.requests === 0 || t.itemWrites === 0)
    throw new Error(
      `the DynamoDB census counted ${t.requests} requests and ${t.itemWrites} item writes after ${work}: it is not watching the client the code uses`,
    );
}
