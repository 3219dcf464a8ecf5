import { DynamosError } from '../../knowledge/errors.js';
import type { PartyResult, ResultArtifact, ResultLimit } from '../../knowledge/ports/job-runner.js';
import type { DataChunk } from '../../proto/generated/dynamos/v1/microservice.js';
import { columnKindOf } from '../../services/sidecar/column-types.js';
import { decodeRows } from '../../services/sidecar/decode-rows.js';
import { checkResultLimit } from '../../services/sidecar/result-limit.js';
import type { ExpectedStreams, IncomingStream, SidecarServer } from '../../services/sidecar/sidecar-server.js';
import { listenForStreams } from '../../services/sidecar/sidecar-server.js';

/**
 * The requester's sidecar: receives the result streams of a deployment and turns them into
 * results. Tracks each token on its own, so a failed job's missing stream does not hold back the
 * others.
 */
export class ResultCollector {
  private readonly results = new Map<string, PartyResult[]>();
  private readonly waiting = new Map<string, { count: number; done: () => void; failed: (e: unknown) => void; promise: Promise<void> }>();

  private received = { rows: 0, bytes: 0 };

  private constructor(
    private server: SidecarServer | undefined,
    private readonly limit: ResultLimit | undefined,
    private readonly onLimit: (error: DynamosError) => void,
  ) {}

  /**
   * Listens for the `expected` streams. Past `limit`, over all of them, the stream that passed it
   * fails with RESULT_TOO_LARGE and `onLimit` hears it, so the runner can stop the other jobs.
   */
  static async listen(expected: readonly ExpectedStreams[], limit?: ResultLimit, onLimit: (error: DynamosError) => void = () => undefined): Promise<ResultCollector> {
    const collector = new ResultCollector(undefined, limit, onLimit);
    for (const e of expected) collector.expect(e.token, e.count);
    collector.server = await listenForStreams(expected, (stream) => collector.receive(stream));
    return collector;
  }

  get address(): { host: string; port: number } {
    const server = this.server as SidecarServer;
    return { host: server.host, port: server.port };
  }

  /** Resolves once every stream carrying `token` arrived whole; rejects if one failed. */
  streamsOf(token: string): Promise<void> {
    return (this.waiting.get(token) as { promise: Promise<void> }).promise;
  }

  resultsOf(token: string): readonly PartyResult[] {
    return this.results.get(token) ?? [];
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  private expect(token: string, count: number): void {
    let done!: () => void;
    let failed!: (e: unknown) => void;
    const promise = new Promise<void>((resolve, reject) => ((done = resolve), (failed = reject)));
    promise.catch(() => undefined);
    this.waiting.set(token, { count, done, failed, promise });
    if (count === 0) done();
  }

  private async receive(stream: IncomingStream): Promise<void> {
    const { header } = stream;
    const slot = this.waiting.get(header.streamToken);
    if (slot === undefined) return;
    const rows: unknown[][] = [];
    try {
      const end = await stream.consume((chunk) => {
        this.count(chunk);
        for (const row of decodeRows(header.columns, chunk)) rows.push(row);
      });
      const artifacts: ResultArtifact[] = end.artifacts.map((a) => ({
        name: a.name,
        mediaType: a.mediaType,
        content: new TextDecoder().decode(a.content),
      }));
      const table = { columns: header.columns.map((c) => ({ name: c.name, type: columnKindOf(c.type) })), rows };
      const list = this.results.get(header.streamToken) ?? [];
      list.push({ computedBy: header.sourceParty, providers: [...header.providers], table, artifacts });
      this.results.set(header.streamToken, list);
      if (--slot.count === 0) slot.done();
    } catch (error) {
      slot.failed(error);
      if (error instanceof DynamosError && error.code === 'RESULT_TOO_LARGE') this.onLimit(error);
      throw error;
    }
  }

  /** Counts a chunk before it is decoded: past the limit, nothing more is held. */
  private count(chunk: DataChunk): void {
    this.received = {
      rows: this.received.rows + chunk.rowCount,
      bytes: this.received.bytes + chunk.columns.reduce((s, c) => s + c.values.length + c.offsets.length + c.validity.length, 0),
    };
    if (this.limit !== undefined) checkResultLimit(this.limit, this.received);
  }
}
