/**
 * Checks rendered objects against the Kubernetes OpenAPI schemas that kubernetes-models compiles
 * (types, enums, required fields, int-or-string). Unknown field names pass, as they do in the
 * OpenAPI schemas themselves; the API server's strict field validation is what rejects those.
 */
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { K8sObject } from './helm.js';

/** Every kind the chart may render; a new kind must be added here to be checked at all. */
const MODELS = [ConfigMap, Service, ServiceAccount, Deployment, Ingress, PodDisruptionBudget];

/** Throws kubernetes-models' ValidationError (with ajv's paths) when `object` breaks its schema. */
export function validateObject(object: K8sObject): void {
  const Model = MODELS.find((m) => m.apiVersion === object.apiVersion && m.kind === object.kind);
  if (!Model) throw new Error(`no Kubernetes schema registered for ${object.apiVersion} ${object.kind}`);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the schema, not the compiler, judges the shape
  new Model(object as any).validate();
}
