import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, type ScalarTag } from 'yaml';
import { objectsTableDefinition } from '../../../shared/store/dynamo/schema.js';

/** CloudFormation's short-form tags, read as plain values: only the table's shape matters here. */
const cfnTags: ScalarTag[] = ['!GetAtt', '!Ref', '!Sub'].map((tag) => ({ tag, resolve: (s: string) => s }));
const seqTags = ['!Join'].map((tag) => ({ tag, collection: 'seq' as const, resolve: (v: unknown) => v }));

describe('the objects table', () => {
  it('is declared the same in serverless.yml and in the offline schema', () => {
    const sls = parse(readFileSync(new URL('../../../serverless.yml', import.meta.url), 'utf8'), {
      customTags: [...cfnTags, ...seqTags],
    }) as any;
    const cfn = sls.resources.Resources.ObjectsTable.Properties;
    const local = objectsTableDefinition('t');
    const sortBy = <T extends { AttributeName?: string; IndexName?: string }>(xs: T[] = []) =>
      [...xs].sort((a, b) =>
        String(a.AttributeName ?? a.IndexName).localeCompare(String(b.AttributeName ?? b.IndexName)),
      );
    expect(sortBy(cfn.AttributeDefinitions)).toEqual(sortBy(local.AttributeDefinitions));
    expect(cfn.KeySchema).toEqual(local.KeySchema);
    expect(sortBy(cfn.GlobalSecondaryIndexes)).toEqual(sortBy(local.GlobalSecondaryIndexes));
    expect(cfn.StreamSpecification.StreamViewType).toBe(local.StreamSpecification?.StreamViewType);
    expect(cfn.BillingMode).toBe(local.BillingMode);
  });
});
