import { z } from 'zod';
import {
  dataKey,
  dnsLabel,
  intOrString,
  labels,
  loose,
  nonNegativeInt,
  port,
  quantity,
  uniqueBy,
  checkedString,
} from './schema-kit.js';
import { conditions } from './workload-schemas.js';
import { qualifiedName } from '../names.js';

/** Schemas for Service, ConfigMap, Secret, Node, Namespace and Event. */

const servicePort = loose({
  name: dnsLabel.optional(),
  port: port,
  targetPort: intOrString.optional(),
  nodePort: port.optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
});

export const serviceSchema = loose({
  spec: loose({
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).optional(),
    selector: labels.optional(),
    clusterIP: z.string().optional(),
    externalName: z.string().optional(),
    sessionAffinity: z.enum(['None', 'ClientIP']).optional(),
    ports: z
      .array(servicePort)
      .superRefine(uniqueBy((p) => p.name, 'name'))
      .superRefine((ports, ctx) => {
        if (ports.length > 1)
          ports.forEach((p, i) => {
            if (!p.name)
              ctx.addIssue({
                code: 'custom',
                message: 'Required value',
                path: [i, 'name'],
                params: { reason: 'FieldValueRequired' },
              });
          });
      })
      .optional(),
  }).superRefine((spec, ctx) => {
    const headless = spec.clusterIP === 'None';
    if (spec.type !== 'ExternalName' && !headless && !(spec.ports ?? []).length)
      ctx.addIssue({
        code: 'custom',
        message: 'Required value',
        path: ['ports'],
        params: { reason: 'FieldValueRequired' },
      });
    if (spec.type === 'ExternalName' && !spec.externalName)
      ctx.addIssue({
        code: 'custom',
        message: 'Required value',
        path: ['externalName'],
        params: { reason: 'FieldValueRequired' },
      });
  }),
});

const keysDisjoint = (
  o: { data?: Record<string, unknown>; binaryData?: Record<string, unknown> },
  ctx: z.RefinementCtx,
) => {
  for (const k of Object.keys(o.binaryData ?? {}))
    if (o.data && k in o.data)
      ctx.addIssue({
        code: 'custom',
        message: `Duplicate value: "${k}"`,
        path: ['data', k],
        params: { reason: 'FieldValueDuplicate' },
      });
};

export const configMapSchema = loose({
  data: z.record(dataKey, z.string()).optional(),
  binaryData: z.record(dataKey, z.string().base64('must be base64-encoded')).optional(),
  immutable: z.boolean().optional(),
}).superRefine(keysDisjoint);

export const secretSchema = loose({
  type: z.string().optional(),
  data: z.record(dataKey, z.string().base64('must be base64-encoded')).optional(),
  stringData: z.record(dataKey, z.string()).optional(),
  immutable: z.boolean().optional(),
});

const taint = loose({
  key: checkedString(qualifiedName),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

export const nodeSchema = loose({
  spec: loose({
    unschedulable: z.boolean().optional(),
    taints: z.array(taint).optional(),
    podCIDR: z.string().optional(),
    providerID: z.string().optional(),
  }).optional(),
  status: loose({
    capacity: z.record(z.string(), quantity).optional(),
    allocatable: z.record(z.string(), quantity).optional(),
    conditions: conditions.optional(),
  }).optional(),
});

export const namespaceSchema = loose({ spec: loose({ finalizers: z.array(z.string()).optional() }).optional() });

export const eventSchema = loose({
  involvedObject: loose({
    kind: z.string().optional(),
    namespace: z.string().optional(),
    name: z.string().optional(),
    uid: z.string().optional(),
    apiVersion: z.string().optional(),
  }),
  reason: z.string().optional(),
  message: z.string().optional(),
  type: z.enum(['Normal', 'Warning']).optional(),
  count: nonNegativeInt.optional(),
});

const endpointAddress = loose({
  ip: z.string().min(1),
  hostname: z.string().optional(),
  nodeName: z.string().optional(),
  targetRef: loose({}).optional(),
});

export const endpointsSchema = loose({
  subsets: z
    .array(
      loose({
        addresses: z.array(endpointAddress).optional(),
        notReadyAddresses: z.array(endpointAddress).optional(),
        ports: z
          .array(
            loose({ name: z.string().optional(), port: port, protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional() }),
          )
          .optional(),
      }),
    )
    .optional(),
});
