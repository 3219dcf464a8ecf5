import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest, expired } from './api-errors.js';
import type { KubeObject } from './kube-object.js';
import type { Selection } from './list-pages.js';
import { parseSelection, selects } from './list-pages.js';
import type { ObjectStore, StoreEvent } from './object-store.js';
import type { ResourceInfo } from './resources.js';
import { apiVersionOf } from './resources.js';

export interface WatchRequest {
  readonly info: ResourceInfo;
  readonly namespace: string | undefined;
  readonly query: URLSearchParams;
}

type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One open watch: a chunked 200 response of JSON lines, until timeout, drop or close. */
export interface OpenWatch {
  /** Breaks the connection without ending the stream, as a lost link does. */
  drop(): void;
  /** Ends the stream cleanly, as the apiserver does at the timeout. */
  end(): void;
}

/**
 * Serves `?watch=true`: JSON lines `{type, object}`, chunked, in one 200 response.
 * - From `resourceVersion` R: every change after R from the store's log; one older than the log
 *   keeps is an ERROR event carrying a 410 Expired Status, then the stream ends. Without R (or
 *   "0"): ADDED for every object that exists, then changes.
 * - Selectors apply to each change: an object that starts matching is ADDED, one that stops is
 *   DELETED, as the watch cache does.
 * - BOOKMARK events every `bookmarkIntervalMs` when `allowWatchBookmarks=true`.
 * - The stream ends at `timeoutSeconds`.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks
 */
export function serveWatch(req: IncomingMessage, res: ServerResponse, store: ObjectStore, request: WatchRequest, bookmarkIntervalMs: number): OpenWatch {
  const { info, namespace, query } = request;
  const selection = parseSelection(info, { labelSelector: query.get('labelSelector') ?? undefined, fieldSelector: query.get('fieldSelector') ?? undefined });
  const from = query.get('resourceVersion') ?? '';
  const revision = from === '' || from === '0' ? undefined : Number(from);
  if (revision !== undefined && !Number.isInteger(revision)) throw badRequest(`resourceVersion: Invalid value: "${from}": must be an integer`);
  const timeoutSeconds = query.get('timeoutSeconds');
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  // The client's watch() resolves on the headers; an empty watch must not keep it waiting.
  res.flushHeaders();
  const send = (type: WatchEventType, object: unknown) => {
    if (!res.writableEnded && !res.destroyed) res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe = () => undefined as unknown;
  const cleanUp = () => {
    unsubscribe();
    for (const timer of timers) clearInterval(timer);
  };
  const watch: OpenWatch = {
    drop: () => {
      cleanUp();
      res.socket?.destroy();
      res.destroy();
    },
    end: () => {
      cleanUp();
      if (!res.writableEnded) res.end();
    },
  };
  req.on('close', cleanUp);
  res.on('close', cleanUp);
  const relevant = (event: StoreEvent) => event.plural === info.plural && (namespace === undefined || event.object.metadata.namespace === namespace);
  // Backlog and subscription in one synchronous step: no change can fall between them.
  if (revision === undefined) {
    for (const object of store.list(info.plural, namespace)) if (selects(selection, object)) send('ADDED', object);
  } else {
    const backlog = store.changesAfter(revision);
    if (backlog === 'expired') {
      send('ERROR', expired(`too old resource version: ${revision} (${store.oldestResumable + 1})`).status);
      watch.end();
      return watch;
    }
    for (const event of backlog) if (relevant(event)) forward(event, selection, send);
  }
  unsubscribe = store.subscribe((event) => {
    if (relevant(event)) forward(event, selection, send);
  });
  if (query.get('allowWatchBookmarks') === 'true') {
    // Every change up to the store's revision has been sent (synchronously), so it is a safe resume point.
    const bookmark = () => send('BOOKMARK', { kind: info.kind, apiVersion: apiVersionOf(info), metadata: { resourceVersion: String(store.resourceVersion) } });
    timers.push(setInterval(bookmark, bookmarkIntervalMs));
  }
  if (timeoutSeconds !== null && Number(timeoutSeconds) > 0) timers.push(setTimeout(() => watch.end(), Number(timeoutSeconds) * 1000));
  return watch;
}

function forward(event: StoreEvent, selection: Selection, send: (type: WatchEventType, object: KubeObject) => void): void {
  const now = event.type !== 'DELETED' && selects(selection, event.object);
  const before = event.previous !== undefined && selects(selection, event.type === 'DELETED' ? event.object : event.previous);
  if (event.type === 'ADDED' && now) send('ADDED', event.object);
  else if (event.type === 'MODIFIED' && now) send(before ? 'MODIFIED' : 'ADDED', event.object);
  else if (event.type === 'MODIFIED' && before) send('DELETED', event.object);
  else if (event.type === 'DELETED' && before) send('DELETED', event.object);
}
