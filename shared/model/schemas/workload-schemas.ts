import { z } from 'zod';
import { fromStructured, matchesLabels, type StructuredSelector } from '../selectors.js';
import { parseQuantity } from '../quantity.js';
import {
  annotations,
  dnsLabel,
  envName,
  intOrPercent,
  intOrString,
  labels,
  loose,
  nonNegativeInt,
  port,
  positiveInt,
  quantity,
  uniqueBy,
  checkedString,
} from './schema-kit.js';
import { qualifiedName } from '../names.js';

/** Pod, container and workload schemas (Pod, Deployment, ReplicaSet, Job). */

const protocol = z.enum(['TCP', 'UDP', 'SCTP']);

const containerPort = loose({
  name: dnsLabel.optional(),
  containerPort: port,
  hostPort: port.optional(),
  hostIP: z.string().optional(),
  protocol: protocol.optional(),
});

const envVar = loose({
  name: envName,
  value: z.string().optional(),
  valueFrom: loose({
    configMapKeyRef: loose({ name: z.string(), key: z.string(), optional: z.boolean().optional() }).optional(),
    secretKeyRef: loose({ name: z.string(), key: z.string(), optional: z.boolean().optional() }).optional(),
    fieldRef: loose({ fieldPath: z.string() }).optional(),
    resourceFieldRef: loose({ resource: z.string() }).optional(),
  }).optional(),
});

const envFromSource = loose({
  prefix: z.string().optional(),
  configMapRef: loose({ name: z.string(), optional: z.boolean().optional() }).optional(),
  secretRef: loose({ name: z.string(), optional: z.boolean().optional() }).optional(),
});

const resourceList = z.record(z.string(), quantity);

const resources = loose({ limits: resourceList.optional(), requests: resourceList.optional() }).superRefine(
  (r, ctx) => {
    for (const [name, req] of Object.entries(r.requests ?? {})) {
      const limit = r.limits?.[name];
      if (limit === undefined) continue;
      const rq = parseQuantity(req);
      const lq = parseQuantity(limit);
      if (rq !== undefined && lq !== undefined && rq > lq)
        ctx.addIssue({
          code: 'custom',
          message: `must be less than or equal to ${name} limit of ${limit}`,
          path: ['requests', name],
        });
    }
  },
);

const probe = loose({
  httpGet: loose({
    path: z.string().optional(),
    port: intOrString,
    host: z.string().optional(),
    scheme: z.enum(['HTTP', 'HTTPS']).optional(),
  }).optional(),
  tcpSocket: loose({ port: intOrString, host: z.string().optional() }).optional(),
  exec: loose({ command: z.array(z.string()).optional() }).optional(),
  grpc: loose({ port: port, service: z.string().optional() }).optional(),
  initialDelaySeconds: nonNegativeInt.optional(),
  timeoutSeconds: positiveInt.optional(),
  periodSeconds: positiveInt.optional(),
  successThreshold: positiveInt.optional(),
  failureThreshold: positiveInt.optional(),
  terminationGracePeriodSeconds: positiveInt.optional(),
}).superRefine((p, ctx) => {
  const handlers = ['httpGet', 'tcpSocket', 'exec', 'grpc'].filter(
    (h) => (p as Record<string, unknown>)[h] !== undefined,
  );
  if (handlers.length === 0)
    ctx.addIssue({ code: 'custom', message: 'must specify a handler type', params: { reason: 'FieldValueRequired' } });
  if (handlers.length > 1)
    ctx.addIssue({
      code: 'custom',
      message: 'may not specify more than 1 handler type',
      params: { reason: 'FieldValueForbidden' },
    });
});

const container = loose({
  name: dnsLabel,
  image: z.string().min(1, 'must not be empty'),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  workingDir: z.string().optional(),
  ports: z
    .array(containerPort)
    .superRefine(uniqueBy((p) => p.name, 'name'))
    .optional(),
  env: z.array(envVar).optional(),
  envFrom: z.array(envFromSource).optional(),
  resources: resources.optional(),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
  livenessProbe: probe.optional(),
  readinessProbe: probe.optional(),
  startupProbe: probe.optional(),
  terminationMessagePath: z.string().optional(),
  terminationMessagePolicy: z.enum(['File', 'FallbackToLogsOnError']).optional(),
});

const toleration = loose({
  key: z.string().optional(),
  operator: z.enum(['Exists', 'Equal']).optional(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
  tolerationSeconds: z.number().int('must be an integer').optional(),
});

export const podSpec = loose({
  containers: z
    .array(container)
    .min(1, 'must have at least one container')
    .superRefine(uniqueBy((c) => c.name, 'name')),
  initContainers: z.array(container).optional(),
  restartPolicy: z.enum(['Always', 'OnFailure', 'Never']).optional(),
  terminationGracePeriodSeconds: nonNegativeInt.optional(),
  activeDeadlineSeconds: positiveInt.optional(),
  nodeSelector: z.record(checkedString(qualifiedName), z.string()).optional(),
  nodeName: z.string().optional(),
  tolerations: z.array(toleration).optional(),
  affinity: loose({}).optional(),
  topologySpreadConstraints: z
    .array(
      loose({
        maxSkew: positiveInt,
        topologyKey: z.string().min(1),
        whenUnsatisfiable: z.enum(['DoNotSchedule', 'ScheduleAnyway']),
      }),
    )
    .optional(),
  volumes: z.array(loose({ name: dnsLabel })).optional(),
  hostNetwork: z.boolean().optional(),
  serviceAccountName: z.string().optional(),
  priority: z.number().int().optional(),
  schedulerName: z.string().optional(),
  dnsPolicy: z.enum(['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']).optional(),
});

const templateMeta = loose({ labels: labels.optional(), annotations: annotations.optional() });

const podTemplate = loose({ metadata: templateMeta.optional(), spec: podSpec });

const selectorExpression = loose({
  key: checkedString(qualifiedName),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional(),
});

const labelSelector = loose({
  matchLabels: labels.optional(),
  matchExpressions: z.array(selectorExpression).optional(),
});

type Template = { metadata?: { labels?: Record<string, string> } };

/**
 * The selector must be non-empty and select the template's own labels, or the controller would orphan its
 * pods. Kubernetes words the empty case "for deployment" for ReplicaSets too; StatefulSets say their own.
 */
const selectorMatchesTemplate =
  (owner = 'deployment') =>
  (spec: { selector?: StructuredSelector; template?: Template }, ctx: z.RefinementCtx) => {
    const sel = spec.selector;
    if (!sel) return;
    if (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length) {
      ctx.addIssue({ code: 'custom', message: `empty selector is invalid for ${owner}`, path: ['selector'] });
      return;
    }
    if (!matchesLabels(fromStructured(sel), spec.template?.metadata?.labels))
      ctx.addIssue({
        code: 'custom',
        message: '`selector` does not match template `labels`',
        path: ['template', 'metadata', 'labels'],
        // field.Invalid names the template's labels as the value, not the whole spec.
        input: spec.template?.metadata?.labels ?? {},
      });
  };

function restartPolicyIn(allowed: readonly string[]) {
  return (spec: { template?: { spec?: { restartPolicy?: string } } }, ctx: z.RefinementCtx) => {
    const rp = spec.template?.spec?.restartPolicy;
    if (rp !== undefined && !allowed.includes(rp))
      ctx.addIssue({
        code: 'invalid_value',
        values: [...allowed],
        input: rp,
        message: 'unsupported',
        path: ['template', 'spec', 'restartPolicy'],
      });
  };
}

/** Conditions as every controller and client reads them. */
export const conditions = z.array(
  loose({
    type: z.string().min(1),
    status: z.enum(['True', 'False', 'Unknown']),
    reason: z.string().optional(),
    message: z.string().optional(),
  }),
);

export const podSchema = loose({
  spec: podSpec,
  status: loose({
    phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']).optional(),
    conditions: conditions.optional(),
    podIP: z.string().optional(),
    containerStatuses: z
      .array(loose({ name: z.string(), ready: z.boolean().optional(), restartCount: nonNegativeInt.optional() }))
      .optional(),
  }).optional(),
});

export const replicaSetSchema = loose({
  spec: loose({
    replicas: nonNegativeInt.optional(),
    minReadySeconds: nonNegativeInt.optional(),
    selector: labelSelector,
    template: podTemplate,
  })
    .superRefine(selectorMatchesTemplate())
    .superRefine(restartPolicyIn(['Always'])),
});

/** ValidateReplicationControllerSpec: a label-map selector that is required and selects the template. */
export const replicationControllerSchema = loose({
  spec: loose({
    replicas: nonNegativeInt.optional(),
    minReadySeconds: nonNegativeInt.optional(),
    selector: labels.optional(),
    template: podTemplate,
  })
    .superRefine((spec, ctx) => {
      const sel = spec.selector ?? {};
      if (!Object.keys(sel).length)
        ctx.addIssue({
          code: 'custom',
          message: 'Required value',
          path: ['selector'],
          params: { reason: 'FieldValueRequired' },
        });
      else if (!matchesLabels(fromStructured({ matchLabels: sel }), spec.template?.metadata?.labels))
        ctx.addIssue({
          code: 'custom',
          message: '`selector` does not match template `labels`',
          path: ['template', 'metadata', 'labels'],
          input: spec.template?.metadata?.labels ?? {},
        });
      const podSpec: unknown = spec.template?.spec;
      if (
        podSpec &&
        typeof podSpec === 'object' &&
        'activeDeadlineSeconds' in podSpec &&
        podSpec.activeDeadlineSeconds != null
      )
        ctx.addIssue({
          code: 'custom',
          message: 'activeDeadlineSeconds in ReplicationController is not Supported',
          path: ['template', 'spec', 'activeDeadlineSeconds'],
          params: { reason: 'FieldValueForbidden' },
        });
    })
    .superRefine(restartPolicyIn(['Always'])),
});

export const deploymentSchema = loose({
  spec: loose({
    replicas: nonNegativeInt.optional(),
    minReadySeconds: nonNegativeInt.optional(),
    revisionHistoryLimit: nonNegativeInt.optional(),
    progressDeadlineSeconds: positiveInt.optional(),
    paused: z.boolean().optional(),
    selector: labelSelector,
    template: podTemplate,
    strategy: loose({
      type: z.enum(['RollingUpdate', 'Recreate']).optional(),
      rollingUpdate: loose({ maxSurge: intOrPercent.optional(), maxUnavailable: intOrPercent.optional() }).optional(),
    }).optional(),
  })
    .superRefine(selectorMatchesTemplate())
    .superRefine(restartPolicyIn(['Always']))
    .superRefine((spec, ctx) => {
      const ru = spec.strategy?.rollingUpdate;
      if (spec.strategy?.type === 'Recreate' && ru)
        ctx.addIssue({
          code: 'custom',
          message: "may not be specified when strategy `type` is 'Recreate'",
          path: ['strategy', 'rollingUpdate'],
          params: { reason: 'FieldValueForbidden' },
        });
      const zero = (v: unknown) => v === 0 || v === '0%';
      if (ru && zero(ru.maxSurge) && zero(ru.maxUnavailable))
        ctx.addIssue({
          code: 'custom',
          message: 'may not be 0 when `maxSurge` is 0',
          path: ['strategy', 'rollingUpdate', 'maxUnavailable'],
        });
      if (spec.progressDeadlineSeconds !== undefined && spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0))
        ctx.addIssue({
          code: 'custom',
          message: 'must be greater than minReadySeconds',
          path: ['progressDeadlineSeconds'],
        });
    }),
});

/** validateJobSpec's restartPolicy: Always (the pod default) is "Required", another value not supported. */
function jobRestartPolicy(spec: { template?: { spec?: { restartPolicy?: string } } }, ctx: z.RefinementCtx) {
  const rp = spec.template?.spec?.restartPolicy;
  if (rp === 'Always' || rp === '')
    ctx.addIssue({
      code: 'custom',
      message: 'Required value: valid values: "OnFailure", "Never"',
      path: ['template', 'spec', 'restartPolicy'],
      params: { reason: 'FieldValueRequired' },
    });
  else restartPolicyIn(['OnFailure', 'Never'])(spec, ctx);
}

const jobSpec = loose({
  parallelism: nonNegativeInt.optional(),
  completions: nonNegativeInt.optional(),
  backoffLimit: nonNegativeInt.optional(),
  activeDeadlineSeconds: positiveInt.optional(),
  ttlSecondsAfterFinished: nonNegativeInt.optional(),
  suspend: z.boolean().optional(),
  selector: labelSelector.optional(),
  template: podTemplate,
});

export const jobSchema = loose({
  spec: jobSpec.superRefine(selectorMatchesTemplate()).superRefine(jobRestartPolicy),
});

/**
 * ValidateCronJobSpec's shapes; the schedule, time zone and policy checks with Kubernetes' wording are
 * the kind's `validate` (model/kinds/batch.ts). The job template is checked as a Job's spec, with the
 * selector left to be generated.
 */
export const cronJobSchema = loose({
  spec: loose({
    schedule: z.string(),
    timeZone: z.string().optional(),
    startingDeadlineSeconds: nonNegativeInt.optional(),
    concurrencyPolicy: z.string().optional(),
    suspend: z.boolean().optional(),
    successfulJobsHistoryLimit: nonNegativeInt.optional(),
    failedJobsHistoryLimit: nonNegativeInt.optional(),
    jobTemplate: loose({ metadata: templateMeta.optional(), spec: jobSpec.superRefine(jobRestartPolicy) }),
  }),
});

/**
 * ValidateStatefulSetSpec's shapes (pkg/apis/apps/validation); the checks with Kubernetes' own wording
 * that zod cannot phrase are the kind's `validate` (model/kinds/apps.ts). Kubernetes leaves a
 * StatefulSet's pod spec unchecked until a pod is made from it; kumo checks it as a Deployment's, so a
 * template no pod could be made from is refused at once instead of failing every pod create.
 */
export const statefulSetSchema = loose({
  spec: loose({
    replicas: nonNegativeInt.optional(),
    minReadySeconds: nonNegativeInt.optional(),
    // Kubernetes 1.32 takes any integer here (a negative one keeps every revision).
    revisionHistoryLimit: z.number().int('must be an integer').optional(),
    serviceName: z.string().optional(),
    podManagementPolicy: z.string().optional(),
    selector: labelSelector.optional(),
    template: podTemplate,
    updateStrategy: loose({
      type: z.string().optional(),
      rollingUpdate: loose({
        partition: nonNegativeInt.optional(),
        maxUnavailable: intOrPercent.optional(),
      }).optional(),
    }).optional(),
    ordinals: loose({ start: nonNegativeInt.optional() }).optional(),
    persistentVolumeClaimRetentionPolicy: loose({
      whenDeleted: z.enum(['Retain', 'Delete']).optional(),
      whenScaled: z.enum(['Retain', 'Delete']).optional(),
    }).optional(),
  })
    .superRefine(selectorMatchesTemplate('statefulset'))
    .superRefine(restartPolicyIn(['Always'])),
});

/**
 * ValidateDaemonSetSpec's shapes; the strategy rules with Kubernetes' wording are the kind's
 * `validate` (model/kinds/apps.ts). Unlike a StatefulSet's, a DaemonSet's pod template is validated in full.
 */
export const daemonSetSchema = loose({
  spec: loose({
    minReadySeconds: nonNegativeInt.optional(),
    revisionHistoryLimit: nonNegativeInt.optional(),
    selector: labelSelector.optional(),
    template: podTemplate,
    updateStrategy: loose({
      type: z.string().optional(),
      rollingUpdate: loose({ maxUnavailable: intOrPercent.optional(), maxSurge: intOrPercent.optional() }).optional(),
    }).optional(),
  })
    .superRefine(selectorMatchesTemplate('daemonset'))
    .superRefine(restartPolicyIn(['Always'])),
});
