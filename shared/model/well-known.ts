/**
 * Names Kubernetes gives meaning to (k8s.io/api/core/v1 well_known_labels.go and well_known_taints.go,
 * apps/v1 types.go), in one place so the API server, the agent and the controllers agree on them.
 */

/** The node lifecycle controller's taint for a node whose heartbeats stopped. */
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';
/** The scheduler's view of a cordoned node (spec.unschedulable). */
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_TOPOLOGY_REGION = 'topology.kubernetes.io/region';
export const LABEL_INSTANCE_TYPE = 'node.kubernetes.io/instance-type';

/** What a Deployment adds to its ReplicaSets' selector and pods to keep each template's pods apart. */
export const LABEL_POD_TEMPLATE_HASH = 'pod-template-hash';

/** The ControllerRevision a StatefulSet's or DaemonSet's pod was made from (apps/v1 ControllerRevisionHashLabelKey). */
export const LABEL_CONTROLLER_REVISION_HASH = 'controller-revision-hash';
/** A StatefulSet pod's own name, so a Service can select one pod (apps/v1 StatefulSetPodNameLabel). */
export const LABEL_STATEFULSET_POD_NAME = 'statefulset.kubernetes.io/pod-name';
/** A StatefulSet pod's ordinal (apps/v1 PodIndexLabel, on by default since 1.28). */
export const LABEL_POD_INDEX = 'apps.kubernetes.io/pod-index';
