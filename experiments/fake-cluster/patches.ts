import { ApiError, badRequest, failure } from './api-errors.js';

/**
 * The PATCH bodies the apiserver takes: JSON Patch (client-node's default), JSON merge patch, and
 * strategic merge patch, which this fake applies as a merge patch: lists are replaced, not merged
 * by key. https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/
 */
export function applyPatch(target: unknown, contentType: string, body: unknown): unknown {
  const type = contentType.split(';')[0]?.trim();
  switch (type) {
    case 'application/json-patch+json':
      if (!Array.isArray(body)) throw badRequest('the body of a JSON patch must be an array of operations');
      return applyJsonPatch(target, body as JsonPatchOperation[]);
    case 'application/merge-patch+json':
    case 'application/strategic-merge-patch+json':
      return mergePatch(target, body);
    default:
      throw new ApiError(failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`));
  }
}

interface JsonPatchOperation {
  readonly op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  readonly path: string;
  readonly from?: string;
  readonly value?: unknown;
}

type Container = Record<string, unknown> | unknown[];

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`the JSON patch path "${path}" does not start with "/"`);
  return path
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(root: unknown, parts: readonly string[]): { parent: Container; key: string } {
  let at: unknown = root;
  for (const part of parts.slice(0, -1)) {
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined;
    if (at === null || typeof at !== 'object') throw badRequest(`the JSON patch path /${parts.join('/')} does not exist in the object`);
  }
  return { parent: at as Container, key: parts.at(-1) ?? '' };
}

function read(root: unknown, path: string): unknown {
  const parts = pointer(path);
  if (parts.length === 0) return root;
  const { parent, key } = parentOf(root, parts);
  const value = Array.isArray(parent) ? parent[Number(key)] : parent[key];
  if (value === undefined) throw badRequest(`the JSON patch path ${path} does not exist in the object`);
  return value;
}

function write(root: unknown, path: string, value: unknown, mode: 'add' | 'replace'): unknown {
  const parts = pointer(path);
  if (parts.length === 0) return value;
  const { parent, key } = parentOf(root, parts);
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw badRequest(`the JSON patch index ${key} is out of range`);
    if (mode === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else {
    if (mode === 'replace' && !(key in parent)) throw badRequest(`the JSON patch path ${path} does not exist in the object`);
    parent[key] = value;
  }
  return root;
}

function remove(root: unknown, path: string): unknown {
  const parts = pointer(path);
  const { parent, key } = parentOf(root, parts);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else if (key in parent) delete parent[key];
  else throw badRequest(`the JSON patch path ${path} does not exist in the object`);
  return root;
}

function applyJsonPatch(target: unknown, operations: readonly JsonPatchOperation[]): unknown {
  let doc = structuredClone(target);
  for (const operation of operations) {
    switch (operation.op) {
      case 'add':
      case 'replace':
        doc = write(doc, operation.path, structuredClone(operation.value), operation.op);
        break;
      case 'remove':
        doc = remove(doc, operation.path);
        break;
      case 'move':
      case 'copy': {
        const value = structuredClone(read(doc, operation.from ?? ''));
        if (operation.op === 'move') doc = remove(doc, operation.from ?? '');
        doc = write(doc, operation.path, value, 'add');
        break;
      }
      case 'test':
        if (JSON.stringify(read(doc, operation.path)) !== JSON.stringify(operation.value)) throw badRequest(`the JSON patch test at ${operation.path} failed`);
        break;
      default:
        throw badRequest(`the JSON patch operation "${String((operation as { op: unknown }).op)}" is not supported`);
    }
  }
  return doc;
}

/** RFC 7386: objects merge key by key, null removes a key, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}
