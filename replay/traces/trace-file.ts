import { closeSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { linesOf } from '../../knowledge/audit/decision-log.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { Problem } from '../../knowledge/problems.js';
import { problemsFromZod } from '../../knowledge/problems.js';
import type { TraceEvent, TraceEventInput, TraceHeader, TraceHeaderInput } from './trace-format.js';
import { traceEventSchema, traceHeaderSchema, traceVersion } from './trace-format.js';

/** A trace being read: its header, and its events streamed in order (memory stays flat). */
export interface TraceReader {
  readonly header: TraceHeader;
  /**
   * How long the trace lasts: the header's `durationMs`, or, for a recorded trace file that has
   * none, the time of its last event. Absent only for a stream of lines without one.
   */
  readonly durationMs?: number;
  events(): AsyncGenerator<TraceEvent>;
}

/**
 * Reads a trace from its lines. The header is read at once; events are checked as they stream:
 * each must parse, and times must not go backwards or past `durationMs` (when the header gives it).
 * @throws DynamosError CONFIG_INVALID naming the line and field path of the first bad line
 */
export async function readTraceLines(lines: AsyncIterable<string> | Iterable<string>, source = 'trace'): Promise<TraceReader> {
  const iterator = (Symbol.asyncIterator in lines ? lines[Symbol.asyncIterator]() : toAsync(lines[Symbol.iterator]())) as AsyncIterator<string>;
  const first = await iterator.next();
  if (first.done === true) throw invalid(source, [{ path: 'line 1', message: 'the trace is empty: expected a header line' }]);
  const header = parseLine(first.value, 1, source, (value) => {
    const version = (value as { version?: unknown } | null)?.version;
    if (version !== undefined && version !== traceVersion) return [{ path: 'version', message: `this build reads trace version ${traceVersion}, not ${JSON.stringify(version)}` }];
    return undefined;
  });
  const parsedHeader = checked(traceHeaderSchema.safeParse(header), 1, source);
  async function* events(): AsyncGenerator<TraceEvent> {
    let line = 1;
    let last = 0;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      line++;
      if (next.value.trim() === '') continue;
      const event = checked(traceEventSchema.safeParse(parseLine(next.value, line, source)), line, source);
      if (event.at < last) throw invalid(source, [{ path: `line ${line}: at`, message: `time goes backwards: ${event.at} after ${last}` }]);
      if (parsedHeader.durationMs !== undefined && event.at > parsedHeader.durationMs) throw invalid(source, [{ path: `line ${line}: at`, message: `${event.at} is past the trace's durationMs ${parsedHeader.durationMs}` }]);
      last = event.at;
      yield event;
    }
  }
  return { header: parsedHeader, ...(parsedHeader.durationMs === undefined ? {} : { durationMs: parsedHeader.durationMs }), events };
}

/**
 * Opens a trace file for streaming. A header without `durationMs` (a recording) gets the time of
 * the file's last event as the trace's `durationMs`, read from the end of the file.
 * @throws DynamosError CONFIG_INVALID as {@link readTraceLines}
 */
export async function readTraceFile(file: string): Promise<TraceReader> {
  const reader = await readTraceLines(linesOf(file), file);
  return reader.durationMs !== undefined ? reader : { ...reader, durationMs: (await lastEventAt(file)) ?? 0 };
}

/**
 * The `at` of the last event of a trace file, found by reading back from its end a chunk at a
 * time, so a long trace is not read twice. Undefined when the file has no event (or the last line
 * is not one: the streaming reader then names that line).
 */
async function lastEventAt(file: string): Promise<number | undefined> {
  const handle = await open(file, 'r');
  try {
    let end = (await handle.stat()).size;
    let tail = Buffer.alloc(0);
    while (end > 0) {
      const start = Math.max(0, end - 64 * 1024);
      const chunk = Buffer.alloc(end - start);
      await handle.read(chunk, 0, chunk.length, start);
      tail = Buffer.concat([chunk, tail]); // joined as bytes: a character may straddle two chunks
      end = start;
      const lines = tail.toString('utf8').split('\n');
      // The first piece may be the end of a longer line until the file's start is reached.
      for (let i = lines.length - 1; i >= (end === 0 ? 0 : 1); i--) {
        const line = (lines[i] as string).trim();
        if (line === '') continue;
        try {
          const at = (JSON.parse(line) as { at?: unknown } | null)?.at;
          return typeof at === 'number' ? at : undefined;
        } catch {
          return undefined;
        }
      }
    }
    return undefined;
  } finally {
    await handle.close();
  }
}

/**
 * Writes a trace: the header, then each event as it comes, each checked against the format and
 * written synchronously, so a trace that ends early (the daemon stopped) is still valid up to
 * its last line. The header's `durationMs`, when given, is a promise of the caller's.
 */
export class TraceWriter {
  private last = 0;
  private fd: number | undefined;

  private constructor(
    readonly file: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /** @throws DynamosError CONFIG_INVALID for a header that breaks the format */
  static create(file: string, header: TraceHeaderInput): TraceWriter {
    const parsed = traceHeaderSchema.safeParse(header);
    if (!parsed.success) throw invalid(file, problemsFromZod(parsed.error).map((p) => ({ path: `header: ${p.path}`, message: p.message })));
    const writer = new TraceWriter(file, openSync(file, 'w'));
    try {
      writer.line(parsed.data);
    } catch (error) {
      writer.close(); // the caller cleans up the file; the descriptor is ours to give back
      throw error;
    }
    return writer;
  }

  /** @throws DynamosError CONFIG_INVALID for an event that breaks the format or goes back in time */
  write(event: TraceEventInput): void {
    const parsed = traceEventSchema.safeParse(event);
    if (!parsed.success) throw invalid(this.file, problemsFromZod(parsed.error));
    if (parsed.data.at < this.last) throw invalid(this.file, [{ path: 'at', message: `time goes backwards: ${parsed.data.at} after ${this.last}` }]);
    this.last = parsed.data.at;
    this.line(parsed.data);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private line(value: TraceHeader | TraceEvent): void {
    if (this.fd === undefined) throw new DynamosError('INTERNAL', `the trace ${this.file} is closed`, { retryable: false });
    const bytes = Buffer.from(`${JSON.stringify(value)}\n`);
    for (let written = 0; written < bytes.length; ) written += writeSync(this.fd, bytes, written);
  }
}

function parseLine(text: string, line: number, source: string, precheck?: (value: unknown) => Problem[] | undefined): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(source, [{ path: `line ${line}`, message: `not JSON: ${(error as Error).message}` }]);
  }
  const problems = precheck?.(value);
  if (problems !== undefined) throw invalid(source, problems.map((p) => ({ path: `line ${line}: ${p.path}`, message: p.message })));
  return value;
}

function checked<T>(result: { success: true; data: T } | { success: false; error: Parameters<typeof problemsFromZod>[0] }, line: number, source: string): T {
  if (result.success) return result.data;
  throw invalid(source, problemsFromZod(result.error).map((p) => ({ path: `line ${line}: ${p.path}`, message: p.message })));
}

function invalid(source: string, problems: readonly Problem[]): DynamosError {
  return new DynamosError('CONFIG_INVALID', `${source}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { retryable: false, details: { problems } });
}

async function* toAsync(iterator: Iterator<string>): AsyncGenerator<string> {
  for (let next = iterator.next(); next.done !== true; next = iterator.next()) yield next.value;
}

/** A whole trace as a header and its events, such as `generateTrace` gives. */
export interface TraceInput {
  readonly header: TraceHeaderInput;
  readonly events: Iterable<TraceEventInput>;
}

/** Writes a whole trace to a file through {@link TraceWriter}; returns the number of events. */
export function writeTraceFile(file: string, trace: TraceInput): number {
  const writer = TraceWriter.create(file, trace.header);
  let events = 0;
  try {
    for (const event of trace.events) {
      writer.write(event);
      events++;
    }
  } finally {
    writer.close();
  }
  return events;
}

/** A whole trace as JSON lines, for {@link readTraceLines} without a file. */
export function traceLinesOf(trace: TraceInput): string[] {
  return [JSON.stringify(trace.header), ...[...trace.events].map((e) => JSON.stringify(e))];
}
