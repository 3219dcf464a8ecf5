import { z } from 'zod';
import { DynamosError } from '../../knowledge/errors.js';
import type { Problem } from '../../knowledge/problems.js';
import { formatPath } from '../../knowledge/problems.js';
import { pathPastDepth } from './json-depth-scan.js';

/**
 * How deep and how long a requestApproval body may be (docs/operations.md#request-limits). The
 * body limit (`bodyLimitBytes`) bounds its bytes; these bound what is inside, so nothing after the
 * intake (zod, the SQL parser, the decision log's hashing, a job) meets a body built to hurt it:
 * an 8,000-deep `requestMetadata` overflowed the stack that hashes the decision record, and a
 * 480 KB query took a job 77 s and 6.5 GB.
 */
export const requestLimitsSchema = z.strictObject({
  /** Objects and arrays inside one another, the body itself being level 1. */
  maxDepth: z.number().int().min(4).max(1000).default(32),
  /** Characters of any string or object key outside `requestMetadata`, other than the query. */
  maxStringChars: z.number().int().min(64).default(1024),
  /** Characters of `data_request.query`. The largest useful analysis SQL is a few KiB. */
  maxQueryChars: z.number().int().positive().default(64 * 1024),
  /** Levels of `data_request.requestMetadata`, itself being level 1. */
  maxMetadataDepth: z.number().int().positive().max(1000).default(8),
  /** UTF-8 bytes of `data_request.requestMetadata` as JSON; its strings are bounded by this alone. */
  maxMetadataBytes: z.number().int().positive().default(16 * 1024),
});

export type RequestLimits = z.output<typeof requestLimitsSchema>;

export const defaultRequestLimits: RequestLimits = requestLimitsSchema.parse({});

/**
 * A body's JSON text as a value.
 * @throws DynamosError REQUEST_INVALID when it is nested deeper than `maxDepth` (found before
 *   JSON.parse spends its time on it, with the path) or is not JSON.
 */
export function parseBodyJson(text: string, limits: RequestLimits): unknown {
  const tooDeep = pathPastDepth(text, limits.maxDepth);
  if (tooDeep !== undefined) {
    const problem = { path: formatPath(tooDeep), message: tooDeepMessage(limits) };
    throw new DynamosError('REQUEST_INVALID', `invalid request: ${problem.path}: ${problem.message}`, { retryable: false, details: { problems: [problem] } });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new DynamosError('REQUEST_INVALID', `the body is not valid JSON: ${(cause as Error).message}`, { retryable: false });
  }
}

const tooDeepMessage = (limits: RequestLimits) => `nested deeper than ${limits.maxDepth} levels`;

/** An answer lists at most this many limit problems: a body may break one limit thousands of times. */
const mostProblems = 10;

interface Frame {
  readonly value: unknown;
  readonly key: string | number | undefined;
  readonly parent: Frame | undefined;
  /** The level of `value` in the body, counting containers (the body is 1). */
  readonly depth: number;
  /** The level of `value` inside `requestMetadata` (it is 1); 0 outside it. */
  readonly metadataDepth: number;
}

/**
 * The places where a parsed body breaks a limit, first found first, at most ten. A loop over an
 * explicit stack, never recursion: it must read a body nested a million deep (V8's JSON.parse
 * builds one from a 1 MiB body without complaint) before anything recursive does.
 */
export function requestLimitProblems(body: unknown, limits: RequestLimits): Problem[] {
  const problems: Problem[] = [];
  const report = (frame: Frame, message: string) => problems.push({ path: formatPath(pathOf(frame)), message });
  let metadataBytes = 0;
  let metadata: Frame | undefined;
  const stack: Frame[] = [{ value: body, key: undefined, parent: undefined, depth: 1, metadataDepth: 0 }];
  while (stack.length > 0 && problems.length < mostProblems) {
    const frame = stack.pop() as Frame;
    const inMetadata = frame.metadataDepth > 0;
    if (inMetadata && metadataBytes > limits.maxMetadataBytes) continue;
    if (isMetadata(frame)) metadata = frame;
    const { value } = frame;
    if (typeof value === 'string') {
      if (inMetadata) metadataBytes += jsonBytes(value);
      else checkString(frame, value, isQuery(frame) ? limits.maxQueryChars : limits.maxStringChars, report);
    } else if (value === null || typeof value !== 'object') {
      if (inMetadata) metadataBytes += jsonBytes(value);
    } else if (frame.depth > limits.maxDepth) {
      report(frame, tooDeepMessage(limits));
    } else if (frame.metadataDepth > limits.maxMetadataDepth) {
      report(frame, `requestMetadata may be nested ${limits.maxMetadataDepth} levels deep at most`);
    } else {
      pushChildren(frame, value, stack, inMetadata ? Number.POSITIVE_INFINITY : limits.maxStringChars, report);
      if (inMetadata) metadataBytes += containerBytes(value);
    }
    if (inMetadata && metadataBytes > limits.maxMetadataBytes && metadata !== undefined) {
      report(metadata, `is more than ${limits.maxMetadataBytes} bytes as JSON`);
    }
  }
  return problems;
}

function checkString(frame: Frame, value: string, most: number, report: (frame: Frame, message: string) => void): void {
  if (value.length > most) report(frame, `is ${value.length} characters long; at most ${most} are accepted`);
}

/** Its items or entries on the stack, in reverse so the first is read first; a too long key is reported, not followed. */
function pushChildren(frame: Frame, value: object, stack: Frame[], longestKey: number, report: (frame: Frame, message: string) => void): void {
  const child = (item: unknown, key: string | number): Frame => ({
    value: item,
    key,
    parent: frame,
    depth: frame.depth + 1,
    metadataDepth: frame.metadataDepth > 0 || isMetadataAt(frame, key) ? frame.metadataDepth + 1 : 0,
  });
  if (Array.isArray(value)) {
    for (let i = value.length - 1; i >= 0; i--) stack.push(child(value[i], i));
    return;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  for (let i = keys.length - 1; i >= 0; i--) {
    const key = keys[i] as string;
    if (key.length > longestKey) report(frame, `has a key of ${key.length} characters; at most ${longestKey} are accepted`);
    else stack.push(child(record[key], key));
  }
}

/** `data_request.<key>` of the body. */
function isDataRequestField(frame: Frame | undefined, key: string | number | undefined): boolean {
  return frame?.key === 'data_request' && frame.parent?.parent === undefined && key !== undefined;
}

function isMetadataAt(parent: Frame, key: string | number): boolean {
  return key === 'requestMetadata' && isDataRequestField(parent, key);
}

function isMetadata(frame: Frame): boolean {
  return frame.metadataDepth === 1;
}

function isQuery(frame: Frame): boolean {
  return frame.key === 'query' && isDataRequestField(frame.parent, frame.key);
}

function pathOf(frame: Frame): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at: Frame | undefined = frame; at?.key !== undefined; at = at.parent) path.push(at.key);
  return path.reverse();
}

/** What a string, number, boolean or null adds to the JSON text, in UTF-8 bytes. */
function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** What an array or object adds besides its items: brackets, commas, and each key with its colon. */
function containerBytes(value: object): number {
  if (Array.isArray(value)) return 2 + Math.max(0, value.length - 1);
  const keys = Object.keys(value);
  let bytes = 2 + Math.max(0, keys.length - 1);
  for (const key of keys) bytes += jsonBytes(key) + 1;
  return bytes;
}
