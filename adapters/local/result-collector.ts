import { DynamosError } from '../../knowledge/errors.js';
import type { PartyResult, ResultArtifact, ResultLimit } from '../../knowledge/ports/job-runner.js';
import type { DataChunk } from '../../proto/generated/dynamos/v1/microservice.js';
import { columnKindOf } from '../../services/sidecar/column-types.js';
import { decodeRows } from '../../services/sidecar/decode-rows.js';
import { checkResultLimit } from '../../services/sidecar/result-limit.js';
import type { DataPlaneTls } from '../../services/sidecar/data-plane-tls.js';
import type { ExpectedStreams, IncomingStream, SidecarServer } from '../../services/sidecar/sidecar-server.js';
import { listenForStreams } from '../../services/sidecar/sidecar-server.js';

/** Where the collector listens and what it shows: the result collector's certificate. */
export interface CollectorEndpoint {
  readonly host: string;
  readonly tls: DataPlaneTls;
  readonly requestId: string;
}

/**
 * The requester's sidecar: receives the result streams of a deployment and turns them into
 * results. Tracks each party on its own, so a failed job's missing stream does not hold back the
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
  static async listen(
    endpoint: CollectorEndpoint,
    expected: readonly ExpectedStreams[],
    limit?: ResultLimit,
    onLimit: (error: DynamosError) => void = () => undefined,
  ): Promise<ResultCollector> {
    const collector = new ResultCollector(undefined, limit, onLimit);
    for (const e of expected) collector.expect(e.party, e.count);
    collector.server = await listenForStreams({ ...endpoint, expected }, (stream) => collector.receive(stream));
    return collector;
  }

  /** `host:port`, for the jobs that answer the requester. */
  get address(): string {
    return (this.server as SidecarServer).address;
  }

  /** Resolves once every stream from `party` arrived whole; rejects if one failed. */
  streamsOf(party: string): Promise<void> {
    return (this.waiting.get(party) as { promise: Promise<void> }).promise;
  }

  resultsOf(party: string): readonly PartyResult[] {
    return this.results.get(party) ?? [];
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  private expect(party: string, count: number): void {
    let done!: () => void;
    let failed!: (e: unknown) => void;
    const promise = new Promise<void>((resolve, reject) => ((done = resolve), (failed = reject)));
    promise.catch(() => undefined);
    this.waiting.set(party, { count, done, failed, promise });
    if (count === 0) done();
  }

  private async receive(stream: IncomingStream): Promise<void> {
    const { header } = stream;
    const slot = this.waiting.get(header.sourceParty);
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
      const list = this.results.get(header.sourceParty) ?? [];
      list.push({ computedBy: header.sourceParty, providers: [...header.providers], table, artifacts });
      this.results.set(header.sourceParty, list);
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
