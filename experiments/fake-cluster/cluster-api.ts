import { randomInt, randomUUID } from 'node:crypto';
import type { Status } from './api-errors.js';
import { ApiError, alreadyExists, badRequest, conflict, failure, invalid, methodNotAllowed, notFound } from './api-errors.js';
import { defaultJob, defaultPod, defaultSecret } from './api-defaults.js';
import { checkDecodable, validateObject } from './api-validation.js';
import type { KubeObject } from './kube-object.js';
import { asJob, asPod, copyOf, timestamp } from './kube-object.js';
import type { DeleteOptions } from './object-deletion.js';
import { deleteObject } from './object-deletion.js';
import type { ObjectStore } from './object-store.js';
import { applyPatch } from './patches.js';
import type { ResourceInfo, ResourcePlural } from './resources.js';
import { apiVersionOf, resources } from './resources.js';

export interface WriteOptions {
  /** `dryRun=All`: validate and answer, store nothing. */
  readonly dryRun?: boolean;
  /** 'status' writes only the status; the main resource never writes it. */
  readonly subresource?: 'status';
}

/** The letters generateName draws from: no vowels, so no words. */
const generatedNameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * The apiserver's verbs over the store, with its semantics: defaulting, validation, conflicts,
 * graceful deletion and finalizers. The HTTP layer and the fake's controllers both go through it.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/
 */
export class ClusterApi {
  constructor(readonly store: ObjectStore) {}

  info(plural: ResourcePlural): ResourceInfo {
    return resources[plural];
  }

  get(plural: ResourcePlural, namespace: string | undefined, name: string): KubeObject {
    const found = this.store.get(plural, namespace, name);
    if (found === undefined) throw notFound(resources[plural], name);
    return found;
  }

  create(plural: ResourcePlural, namespace: string | undefined, body: unknown, opts: WriteOptions = {}): KubeObject {
    const info = resources[plural];
    if (!info.writable) throw methodNotAllowed(`${info.plural} are part of the fake cluster's world and cannot be created through the API`);
    if (info.namespaced && this.store.get('namespaces', undefined, namespace ?? '') === undefined) throw notFound(resources.namespaces, namespace ?? '');
    const object = this.decode(info, namespace, body);
    for (const field of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink'] as const) delete object.metadata[field];
    const generateName = object.metadata.generateName;
    // Since 1.31 the apiserver retries a generated name that is taken (RetryGenerateName).
    for (let attempt = 0; ; attempt++) {
      const candidate = copyOf(object);
      if (!candidate.metadata.name && generateName) candidate.metadata.name = `${generateName.slice(0, 58)}${randomSuffix()}`;
      candidate.metadata.uid = randomUUID();
      candidate.metadata.creationTimestamp = timestamp();
      applyDefaults(info, candidate);
      checkDecodable(info, candidate);
      const causes = validateObject(info, candidate);
      if (causes.length > 0) throw invalid(info, candidate.metadata.name ?? '', causes);
      const name = candidate.metadata.name ?? '';
      if (this.store.get(plural, candidate.metadata.namespace, name) !== undefined) {
        if (!object.metadata.name && attempt < 7) continue;
        throw alreadyExists(info, name);
      }
      return opts.dryRun === true ? candidate : this.store.add(plural, candidate);
    }
  }

  /** PUT: replaces the object (or only its status), refusing a stale resourceVersion. */
  update(plural: ResourcePlural, namespace: string | undefined, name: string, body: unknown, opts: WriteOptions = {}): KubeObject {
    const info = resources[plural];
    const existing = this.get(plural, namespace, name);
    const incoming = this.decode(info, namespace, body);
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) throw badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    const expected = incoming.metadata.resourceVersion;
    if (expected !== undefined && expected !== '' && expected !== existing.metadata.resourceVersion) {
      throw conflict(info, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const next = opts.subresource === 'status' ? { ...copyOf(existing), status: incoming.status } : this.mergeUpdate(info, existing, incoming);
    return this.write(info, existing, next, opts);
  }

  /** PATCH: the patch applied to the stored object, then written as an update. */
  patch(plural: ResourcePlural, namespace: string | undefined, name: string, contentType: string, body: unknown, opts: WriteOptions = {}): KubeObject {
    const existing = this.get(plural, namespace, name);
    const patched = applyPatch(copyOf(existing), contentType, body);
    return this.update(plural, namespace, name, patched, opts);
  }

  delete(plural: ResourcePlural, namespace: string | undefined, name: string, options: DeleteOptions = {}): { code: number; body: KubeObject | Status } {
    const info = resources[plural];
    if (plural === 'namespaces' || !info.writable) throw methodNotAllowed(`the fake cluster does not delete ${plural}`);
    return deleteObject(this, info, this.get(plural, namespace, name), options);
  }

  /**
   * For the fake's controllers: changes the stored object through `change` (given a copy; return
   * false to leave it), with an update's semantics. Undefined when the object is gone.
   */
  mutate(plural: ResourcePlural, namespace: string | undefined, name: string, change: (copy: KubeObject) => boolean | void): KubeObject | undefined {
    const existing = this.store.get(plural, namespace, name);
    if (existing === undefined) return undefined;
    const copy = copyOf(existing);
    if (change(copy) === false) return existing;
    if (JSON.stringify(copy) === JSON.stringify(existing)) return existing;
    return this.write(resources[plural], existing, copy, {});
  }

  /**
   * Stores an update. An object being deleted whose last finalizer goes, with no grace period
   * left, is removed instead, as the apiserver does.
   * https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/
   */
  private write(info: ResourceInfo, existing: KubeObject, next: KubeObject, opts: WriteOptions): KubeObject {
    if (opts.subresource !== 'status') {
      const causes = validateObject(info, next);
      const before = new Set(existing.metadata.finalizers ?? []);
      if (existing.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).some((f) => !before.has(f))) {
        causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: no new finalizers can be added if the object is being deleted', field: 'metadata.finalizers' });
      }
      if (causes.length > 0) throw invalid(info, existing.metadata.name ?? '', causes);
    }
    if (opts.dryRun === true) return next;
    const meta = next.metadata;
    if (meta.deletionTimestamp !== undefined && (meta.finalizers ?? []).length === 0 && (meta.deletionGracePeriodSeconds ?? 0) === 0) {
      return this.store.remove(info.plural, meta.namespace, meta.name ?? '');
    }
    return this.store.replace(info.plural, next);
  }

  /** The main resource's update: the client's spec and metadata, the server's system fields and status. */
  private mergeUpdate(info: ResourceInfo, existing: KubeObject, incoming: KubeObject): KubeObject {
    const system = existing.metadata;
    const next: KubeObject = {
      ...incoming,
      metadata: {
        ...incoming.metadata,
        name: system.name ?? '',
        ...(system.namespace === undefined ? {} : { namespace: system.namespace }),
        uid: system.uid ?? '',
        creationTimestamp: system.creationTimestamp ?? '',
        ...(system.deletionTimestamp === undefined ? {} : { deletionTimestamp: system.deletionTimestamp }),
        ...(system.deletionGracePeriodSeconds === undefined ? {} : { deletionGracePeriodSeconds: system.deletionGracePeriodSeconds }),
        ...(system.generation === undefined ? {} : { generation: system.generation + (JSON.stringify(incoming.spec) === JSON.stringify(existing.spec) ? 0 : 1) }),
      },
    };
    if (info.plural === 'jobs' || info.plural === 'pods' || info.plural === 'namespaces' || info.plural === 'nodes') next.status = copyOf(existing.status);
    if (info.plural === 'secrets') defaultSecret(next);
    return next;
  }

  /** The body as an object of this kind in this namespace; 400 for anything else, as the decoder answers. */
  private decode(info: ResourceInfo, namespace: string | undefined, body: unknown): KubeObject {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`the body of the request is not a ${info.kind} object`);
    const object = copyOf(body) as KubeObject;
    const apiVersion = apiVersionOf(info);
    if (object.apiVersion !== undefined && object.apiVersion !== apiVersion) throw badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${apiVersion})`);
    if (object.kind !== undefined && object.kind !== info.kind) throw badRequest(`the kind in the data (${String(object.kind)}) does not match the expected kind (${info.kind})`);
    object.apiVersion = apiVersion;
    object.kind = info.kind;
    object.metadata = { ...((object.metadata as object | undefined) ?? {}) };
    if (info.namespaced) {
      if (object.metadata.namespace !== undefined && object.metadata.namespace !== '' && object.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      object.metadata.namespace = namespace ?? '';
    }
    return object;
  }
}

function applyDefaults(info: ResourceInfo, object: KubeObject): void {
  if (info.plural === 'jobs') defaultJob(asJob(object));
  else if (info.plural === 'pods') defaultPod(asPod(object));
  else if (info.plural === 'secrets') defaultSecret(object);
  else if (info.plural === 'namespaces') {
    object.metadata.labels = { ...object.metadata.labels, 'kubernetes.io/metadata.name': object.metadata.name ?? '' };
    object.spec = { finalizers: ['kubernetes'] };
    object.status = { phase: 'Active' };
  }
}

function randomSuffix(): string {
  return Array.from({ length: 5 }, () => generatedNameAlphabet[randomInt(generatedNameAlphabet.length)]).join('');
}

/** A Status for an error the fake did not mean to give: the request's handler threw something else. */
export function toApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(failure(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`));
}
