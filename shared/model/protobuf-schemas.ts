/**
 * The objects `kubectl create deployment|job|cronjob|configmap|secret|service` send as protobuf, and the
 * DeleteOptions and Evictions of deletes and `kubectl drain`, read by schema: for each message, the fields those generators fill, by their numbers in kubernetes/api's
 * generated.proto. Fields not listed are dropped (the object is then validated and defaulted like a
 * JSON one). Go's protobuf writes every non-pointer field, so empty strings and false/0 of
 * non-pointer fields are dropped, as JSON's omitempty would; pointer fields (`int?`, `bool?`) keep
 * an explicit 0 or false.
 */

export type Scalar = 'string' | 'int' | 'int?' | 'bool' | 'bool?' | 'bytes';
export type FieldType =
  Scalar | Schema | { repeated: Scalar | Schema } | { map: 'string' | 'bytes' | Schema } | 'intOrString';
export interface Schema {
  [n: number]: [name: string, type: FieldType];
}

export const intOrString: FieldType = 'intOrString';
export const quantity: Schema = { 1: ['string', 'string'] };

export const OBJECT_META: Schema = {
  1: ['name', 'string'],
  2: ['generateName', 'string'],
  3: ['namespace', 'string'],
  11: ['labels', { map: 'string' }],
  12: ['annotations', { map: 'string' }],
  // `kubectl create job --from=cronjob/x` names the CronJob as the Job's controller.
  13: [
    'ownerReferences',
    {
      repeated: {
        1: ['kind', 'string'],
        3: ['name', 'string'],
        4: ['uid', 'string'],
        5: ['apiVersion', 'string'],
        6: ['controller', 'bool?'],
        7: ['blockOwnerDeletion', 'bool?'],
      },
    },
  ],
  14: ['finalizers', { repeated: 'string' }],
};
export const LABEL_SELECTOR: Schema = {
  1: ['matchLabels', { map: 'string' }],
  2: [
    'matchExpressions',
    { repeated: { 1: ['key', 'string'], 2: ['operator', 'string'], 3: ['values', { repeated: 'string' }] } },
  ],
};
const CONTAINER: Schema = {
  1: ['name', 'string'],
  2: ['image', 'string'],
  3: ['command', { repeated: 'string' }],
  4: ['args', { repeated: 'string' }],
  5: ['workingDir', 'string'],
  6: [
    'ports',
    {
      repeated: {
        1: ['name', 'string'],
        2: ['hostPort', 'int'],
        3: ['containerPort', 'int'],
        4: ['protocol', 'string'],
        5: ['hostIP', 'string'],
      },
    },
  ],
  7: ['env', { repeated: { 1: ['name', 'string'], 2: ['value', 'string'] } }],
  8: ['resources', { 1: ['limits', { map: quantity }], 2: ['requests', { map: quantity }] }],
  14: ['imagePullPolicy', 'string'],
};
const POD_TEMPLATE: Schema = {
  1: ['metadata', OBJECT_META],
  2: [
    'spec',
    {
      2: ['containers', { repeated: CONTAINER }],
      3: ['restartPolicy', 'string'],
      4: ['terminationGracePeriodSeconds', 'int?'],
    },
  ],
};

/** meta/v1 DeleteOptions: a delete's body, and inside an Eviction. */
const DELETE_OPTIONS: Schema = {
  1: ['gracePeriodSeconds', 'int?'],
  2: ['preconditions', { 1: ['uid', 'string'], 2: ['resourceVersion', 'string'] }],
  3: ['orphanDependents', 'bool?'],
  4: ['propagationPolicy', 'string'],
  5: ['dryRun', { repeated: 'string' }],
};

/** Bodies of subresources and deletes, by kind (the envelope's TypeMeta names it); served kinds declare their own. */
/** authorization.k8s.io/v1 SubjectAccessReviewSpec (k8s.io/api/authorization/v1 generated.proto). */
const ACCESS_REVIEW_SPEC: Schema = {
  1: [
    'resourceAttributes',
    {
      1: ['namespace', 'string'],
      2: ['verb', 'string'],
      3: ['group', 'string'],
      4: ['version', 'string'],
      5: ['resource', 'string'],
      6: ['subresource', 'string'],
      7: ['name', 'string'],
    },
  ],
  2: ['nonResourceAttributes', { 1: ['path', 'string'], 2: ['verb', 'string'] }],
  3: ['user', 'string'],
  4: ['groups', { repeated: 'string' }],
  6: ['uid', 'string'],
};

export const BODY_SCHEMAS: Record<string, Schema> = {
  // What `kubectl auth can-i [--list]` and `kubectl auth whoami` post.
  SelfSubjectAccessReview: { 1: ['metadata', OBJECT_META], 2: ['spec', ACCESS_REVIEW_SPEC] },
  SubjectAccessReview: { 1: ['metadata', OBJECT_META], 2: ['spec', ACCESS_REVIEW_SPEC] },
  LocalSubjectAccessReview: { 1: ['metadata', OBJECT_META], 2: ['spec', ACCESS_REVIEW_SPEC] },
  SelfSubjectRulesReview: { 1: ['metadata', OBJECT_META], 2: ['spec', { 1: ['namespace', 'string'] }] },
  SelfSubjectReview: { 1: ['metadata', OBJECT_META] },
  // authentication.k8s.io/v1 TokenRequest, what `kubectl create token` posts.
  TokenRequest: {
    1: ['metadata', OBJECT_META],
    2: [
      'spec',
      {
        1: ['audiences', { repeated: 'string' }],
        3: [
          'boundObjectRef',
          { 1: ['kind', 'string'], 2: ['apiVersion', 'string'], 3: ['name', 'string'], 4: ['uid', 'string'] },
        ],
        4: ['expirationSeconds', 'int?'],
      },
    ],
  },
  DeleteOptions: DELETE_OPTIONS,
  // policy/v1, what `kubectl drain` posts.
  Eviction: { 1: ['metadata', OBJECT_META], 2: ['deleteOptions', DELETE_OPTIONS] },
  // core/v1 Binding, what kube-scheduler and client-go custom schedulers post to pods/binding.
  Binding: {
    1: ['metadata', { ...OBJECT_META, 5: ['uid', 'string'] }],
    2: [
      'target',
      {
        1: ['kind', 'string'],
        2: ['namespace', 'string'],
        3: ['name', 'string'],
        4: ['uid', 'string'],
        5: ['apiVersion', 'string'],
        6: ['resourceVersion', 'string'],
      },
    ],
  },
};

/** The built-in kinds' messages, for their declarations (model/kinds/builtin.ts). */
const JOB_SPEC: Schema = {
  1: ['parallelism', 'int?'],
  2: ['completions', 'int?'],
  3: ['activeDeadlineSeconds', 'int?'],
  4: ['selector', LABEL_SELECTOR],
  5: ['manualSelector', 'bool?'],
  6: ['template', POD_TEMPLATE],
  7: ['backoffLimit', 'int?'],
  8: ['ttlSecondsAfterFinished', 'int?'],
};

/** autoscaling/v1 HorizontalPodAutoscaler, as `kubectl autoscale` sends it. */
const HPA_V1: Schema = {
  1: ['metadata', OBJECT_META],
  2: [
    'spec',
    {
      1: ['scaleTargetRef', { 1: ['kind', 'string'], 2: ['name', 'string'], 3: ['apiVersion', 'string'] }],
      2: ['minReplicas', 'int?'],
      3: ['maxReplicas', 'int?'],
      4: ['targetCPUUtilizationPercentage', 'int?'],
    },
  ],
};

export const PROTOBUF = {
  HorizontalPodAutoscalerV1: HPA_V1,
  Namespace: { 1: ['metadata', OBJECT_META] },
  ConfigMap: {
    1: ['metadata', OBJECT_META],
    2: ['data', { map: 'string' }],
    3: ['binaryData', { map: 'bytes' }],
    4: ['immutable', 'bool?'],
  },
  Secret: {
    1: ['metadata', OBJECT_META],
    2: ['data', { map: 'bytes' }],
    3: ['type', 'string'],
    4: ['stringData', { map: 'string' }],
    5: ['immutable', 'bool?'],
  },
  Deployment: {
    1: ['metadata', OBJECT_META],
    2: [
      'spec',
      {
        1: ['replicas', 'int?'],
        2: ['selector', LABEL_SELECTOR],
        3: ['template', POD_TEMPLATE],
        4: [
          'strategy',
          {
            1: ['type', 'string'],
            2: ['rollingUpdate', { 1: ['maxUnavailable', intOrString], 2: ['maxSurge', intOrString] }],
          },
        ],
        5: ['minReadySeconds', 'int'],
        6: ['revisionHistoryLimit', 'int?'],
        7: ['paused', 'bool'],
        9: ['progressDeadlineSeconds', 'int?'],
      },
    ],
  },
  Job: { 1: ['metadata', OBJECT_META], 2: ['spec', JOB_SPEC] },
  // `kubectl create cronjob` (k8s.io/api/batch/v1 generated.proto).
  CronJob: {
    1: ['metadata', OBJECT_META],
    2: [
      'spec',
      {
        1: ['schedule', 'string'],
        2: ['startingDeadlineSeconds', 'int?'],
        3: ['concurrencyPolicy', 'string'],
        4: ['suspend', 'bool?'],
        5: ['jobTemplate', { 1: ['metadata', OBJECT_META], 2: ['spec', JOB_SPEC] }],
        6: ['successfulJobsHistoryLimit', 'int?'],
        7: ['failedJobsHistoryLimit', 'int?'],
        8: ['timeZone', 'string'],
      },
    ],
  },
  Service: {
    1: ['metadata', OBJECT_META],
    2: [
      'spec',
      {
        1: [
          'ports',
          {
            repeated: {
              1: ['name', 'string'],
              2: ['protocol', 'string'],
              3: ['port', 'int'],
              4: ['targetPort', intOrString],
              5: ['nodePort', 'int'],
            },
          },
        ],
        2: ['selector', { map: 'string' }],
        3: ['clusterIP', 'string'],
        4: ['type', 'string'],
      },
    ],
  },
} satisfies Record<string, Schema>;
