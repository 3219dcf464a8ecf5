import type { PodObject } from './kube-object.js';

/** Which requests a fault hits: all, or those whose method and path match. */
export interface RequestMatch {
  /** 'GET', 'POST', 'DELETE'…; any when absent. */
  readonly method?: string;
  /** A substring of the path (without the query), or a pattern; any when absent. */
  readonly path?: string | RegExp;
}

export interface RequestFault extends RequestMatch {
  /** 429 (with Retry-After), 403, 500, 503 or 504, answered as the apiserver's Status. */
  readonly code: 403 | 429 | 500 | 503 | 504;
  /** How many matching requests get it. @default 1 */
  readonly times?: number;
  /** For 429 (and 503): the Retry-After header and `details.retryAfterSeconds`. @default 1 */
  readonly retryAfterSeconds?: number;
}

/**
 * The faults a test turns on: answers the API gives instead of serving, and troubles of the
 * kubelet and the store. Each is what a real cluster does under load or failure.
 */
export interface FakeClusterFaults {
  /**
   * The next `times` requests matching get `code` instead of an answer: 429 TooManyRequests with
   * Retry-After (API Priority and Fairness), 500, 503, 504, or 403 Forbidden (RBAC).
   * https://kubernetes.io/docs/concepts/cluster-administration/flow-control/
   */
  failRequests(fault: RequestFault): void;
  /** How many requests the faults of `failRequests` will still answer: 0 once all were met. */
  requestFaultsLeft(): number;
  /** Drops every open watch connection now (as an apiserver restart or a broken link does); returns how many. */
  dropWatches(): number;
  /** Compacts the history: a watch or a continue token from before now gets 410 Expired. */
  compact(): void;
  /** Delays the start of the containers of pods (in `namespace`, or all) by `delayMs`; 0 turns it off. */
  delayPodStarts(delayMs: number, namespace?: string): void;
  /** Pulls of `image` fail (ErrImagePull, then ImagePullBackOff) until `restoreImagePulls`. */
  failImagePulls(image: string): void;
  restoreImagePulls(image: string): void;
  /**
   * Kills a running container as the kernel's OOM killer would: SIGKILL, exit code 137, reason
   * OOMKilled. Returns false when no such container is running.
   */
  oomKill(namespace: string, pod: string, container?: string): boolean;
  /** Turns every fault off. */
  clear(): void;
}

/** The request faults and kubelet faults in force, as the server and kubelet consult them. */
export class FaultState {
  private requestFaults: (RequestFault & { remaining: number })[] = [];
  private readonly failingImages = new Set<string>();
  private readonly startDelays = new Map<string | undefined, number>();

  addRequestFault(fault: RequestFault): void {
    this.requestFaults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  /** The fault this request gets, if any; counts it. */
  takeRequestFault(method: string, path: string): RequestFault | undefined {
    const fault = this.requestFaults.find((f) => f.remaining > 0 && matches(f, method, path));
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    this.requestFaults = this.requestFaults.filter((f) => f.remaining > 0);
    return fault;
  }

  setImagePullFailure(image: string, failing: boolean): void {
    if (failing) this.failingImages.add(image);
    else this.failingImages.delete(image);
  }

  imagePullFails(image: string): boolean {
    return this.failingImages.has(image);
  }

  setStartDelay(delayMs: number, namespace: string | undefined): void {
    if (delayMs > 0) this.startDelays.set(namespace, delayMs);
    else this.startDelays.delete(namespace);
  }

  startDelayMs(pod: PodObject): number {
    return this.startDelays.get(pod.metadata.namespace) ?? this.startDelays.get(undefined) ?? 0;
  }

  requestFaultsLeft(): number {
    return this.requestFaults.reduce((sum, f) => sum + f.remaining, 0);
  }

  clear(): void {
    this.requestFaults = [];
    this.failingImages.clear();
    this.startDelays.clear();
  }
}

function matches(match: RequestMatch, method: string, path: string): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== method.toUpperCase()) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string' ? path.includes(match.path) : match.path.test(path);
}
