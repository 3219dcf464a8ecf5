import { DynamosError } from '../../knowledge/errors.js';
import type { PartyResult, ResultArtifact, ResultLimit } from '../../knowledge/ports/job-runner.js';
import type { DataChunk } from '../../proto/generated/dynamos/v1/microservice.js';
import { columnKindOf } from '../../services/sidecar/column-types.js';
import { decodeRows } from '../../services/sidecar/decode-rows.js';
import type { Fetcher, IncomingStream } from '../../services/sidecar/fetch-streams.js';
import { fetchStreams } from '../../services/sidecar/fetch-streams.js';
import { checkResultLimit } from '../../services/sidecar/result-limit.js';

/**
 * The requester's sidecar: fetches the result streams of a deployment's jobs, with the result
 * collector's certificate, and turns them into results. Tracks each party on its own, so a failed
 * job's missing stream does not hold back the others.
 */
export class ResultCollector {
  private readonly results = new Map<string, PartyResult[]>();
  private readonly fetches = new Map<string, Promise<void>>();
  private received = { rows: 0, bytes: 0 };

  /**
   * Past `limit`, over all streams, the fetch that passed it fails with RESULT_TOO_LARGE (and is
   * cancelled, so its job stops) and `onLimit` hears it, so the runner can stop the other jobs.
   */
  constructor(
    private readonly fetcher: Fetcher,
    private readonly limit?: ResultLimit,
    private readonly onLimit: (error: DynamosError) => void = () => undefined,
  ) {}

  /** Fetches `count` result streams from `party`'s sidecar at `address`. */
  fetchFrom(party: string, address: string, count: number): void {
    const fetched = fetchStreams({ address, party }, this.fetcher, count, (stream) => this.receive(party, stream)).catch((error: unknown) => {
      if (error instanceof DynamosError && error.code === 'RESULT_TOO_LARGE') this.onLimit(error);
      throw error;
    });
    fetched.catch(() => undefined);
    this.fetches.set(party, fetched);
  }

  /** Resolves once every stream from `party` arrived whole; rejects if one failed or none was fetched. */
  streamsOf(party: string): Promise<void> {
    return this.fetches.get(party) ?? Promise.reject(new DynamosError('INTERNAL', `no results were fetched from ${party}`, { retryable: false }));
  }

  resultsOf(party: string): readonly PartyResult[] {
    return this.results.get(party) ?? [];
  }

  private async receive(party: string, stream: IncomingStream): Promise<void> {
    const { header } = stream;
    const rows: unknown[][] = [];
    const end = await stream.consume((chunk) => {
      this.count(chunk);
      for (const row of decodeRows(header.columns, chunk)) rows.push(row);
    });
    const artifacts: ResultArtifact[] = end.artifacts.map((a) => ({ name: a.name, mediaType: a.mediaType, content: new TextDecoder().decode(a.content) }));
    const table = { columns: header.columns.map((c) => ({ name: c.name, type: columnKindOf(c.type) })), rows };
    const list = this.results.get(party) ?? [];
    list.push({ computedBy: header.sourceParty, providers: [...header.providers], table, artifacts });
    this.results.set(party, list);
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
