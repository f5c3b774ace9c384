/**
 * The review resources (access-reviews.ts answers them): create-only, nothing stored. What routing and
 * discovery list.
 */

export const AUTHORIZATION_GROUP = 'authorization.k8s.io';
export const AUTHENTICATION_GROUP = 'authentication.k8s.io';

export interface ReviewResource {
  group: string;
  version: 'v1';
  name: string;
  kind: string;
  namespaced: boolean;
}

export const REVIEW_RESOURCES: readonly ReviewResource[] = [
  {
    group: AUTHORIZATION_GROUP,
    version: 'v1',
    name: 'localsubjectaccessreviews',
    kind: 'LocalSubjectAccessReview',
    namespaced: true,
  },
  {
    group: AUTHORIZATION_GROUP,
    version: 'v1',
    name: 'selfsubjectaccessreviews',
    kind: 'SelfSubjectAccessReview',
    namespaced: false,
  },
  {
    group: AUTHORIZATION_GROUP,
    version: 'v1',
    name: 'selfsubjectrulesreviews',
    kind: 'SelfSubjectRulesReview',
    namespaced: false,
  },
  {
    group: AUTHORIZATION_GROUP,
    version: 'v1',
    name: 'subjectaccessreviews',
    kind: 'SubjectAccessReview',
    namespaced: false,
  },
  {
    group: AUTHENTICATION_GROUP,
    version: 'v1',
    name: 'selfsubjectreviews',
    kind: 'SelfSubjectReview',
    namespaced: false,
  },
];
export const REVIEW_VERBS = ['create'];

export const reviewResource = (group: string, version: string, name: string) =>
  REVIEW_RESOURCES.find((r) => r.group === group && r.version === version && r.name === name);
