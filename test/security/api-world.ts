import type { Hono } from 'hono';
import { SimulatedClock } from 'xstate';
import { createDuckDBQueryInspector } from '../../adapters/duckdb/index.js';
import type { DuckDBQueryInspector } from '../../adapters/duckdb/index.js';
import { FakeJobRunner, fakeReport } from '../../adapters/fake/fake-job-runner.js';
import type { AuthenticatorOptions } from '../../daemon/api/authenticator.js';
import { Authenticator } from '../../daemon/api/authenticator.js';
import { createApi } from '../../daemon/api/http-server.js';
import type { Intake } from '../../daemon/api/request-intake.js';
import type { TrustedIssuer } from '../../daemon/api/token-verifier.js';
import { TokenVerifier } from '../../daemon/api/token-verifier.js';
import { staticKeys } from '../../daemon/api/trusted-issuers.js';
import { RequestLoop } from '../../daemon/loop/request-loop.js';
import type { RequestLoopDeps } from '../../daemon/loop/request-loop.js';
import { dynamosStrategy } from '../../daemon/mape/strategies/dynamos-strategy.js';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import { KnowledgeBase } from '../../knowledge/knowledge-base.js';
import { knowledgeOf } from '../../knowledge/knowledge-snapshot.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { marketplaceFrom } from '../support/fixtures.js';
import type { TestKeys } from '../support/tokens.js';

/** The simulated now of every world: tokens are signed and checked against it. */
export const worldStart = Date.UTC(2030, 0, 1, 12);

type UnsealedRecord = Parameters<NonNullable<RequestLoopDeps['decisionLog']>['append']>[0];

/** An issuer the tests sign for, trusting `keys` (static keys) under issuer `https://idp.test`. */
export function testIssuer(keys: TestKeys, overrides: Partial<TrustedIssuer> = {}): TrustedIssuer {
  return {
    issuer: 'https://idp.test',
    audience: 'dynamos-test',
    algorithms: [keys.alg],
    keys: staticKeys([keys.publicJwk]),
    keySource: 'static keys',
    userClaim: 'sub',
    rolesClaim: 'roles',
    ...overrides,
  };
}

/** The answer as the tests read it. */
export interface Answer {
  readonly status: number;
  readonly json: { code?: string; message?: string; details?: { problems?: { path: string; message: string }[] }; jobId?: string; [key: string]: unknown };
  readonly headers: Headers;
}

/**
 * The daemon's API over the example marketplace, with the real intake, request loop and DuckDB
 * parser, jobs that succeed at once (a fake runner), decisions kept in memory and a simulated
 * clock. One world serves many authenticators: {@link ApiWorld.api} builds the API for one.
 */
export class ApiWorld {
  readonly clock = new SimulatedClock();
  readonly runner = new FakeJobRunner({ autoComplete: (d) => ({ results: [], jobs: d.jobs.map((j) => fakeReport(j, 'succeeded')) }) });
  readonly decisions = new Map<string, DecisionRecord>();
  readonly knowledge: KnowledgeBase;
  readonly requests: RequestLoop;

  private constructor(readonly inspector: DuckDBQueryInspector) {
    this.clock.set(worldStart);
    this.knowledge = new KnowledgeBase(knowledgeOf(marketplaceFrom(), worldStart));
    const decisions = this.decisions;
    const decisionLog = {
      append(record: UnsealedRecord): Promise<DecisionRecord> {
        const sealed = { ...record, seq: decisions.size + 1, prevHash: '0'.repeat(64), hash: '0'.repeat(64) } as DecisionRecord;
        decisions.set(sealed.requestId, sealed);
        return Promise.resolve(sealed);
      },
    };
    this.requests = new RequestLoop({ knowledge: this.knowledge, strategy: () => dynamosStrategy, runner: this.runner, clock: this.clock, logger: silentLogger, deadlineMs: 600_000, energyOf: () => 0, decisionLog });
  }

  static async create(): Promise<ApiWorld> {
    return new ApiWorld(await createDuckDBQueryInspector());
  }

  /** An authenticator on this world's clock. */
  authenticator(issuers: readonly TrustedIssuer[], opts: Omit<AuthenticatorOptions, 'verifier'> & { clockToleranceSeconds?: number } = {}): Authenticator {
    const { clockToleranceSeconds = 30, ...rest } = opts;
    return new Authenticator({ ...rest, verifier: new TokenVerifier(issuers, { clock: this.clock, clockToleranceSeconds }) });
  }

  /** The intake and HTTP API as the daemon builds them, with this authenticator. */
  api(authenticator: Authenticator): { readonly app: Hono; readonly intake: Intake } {
    const intake: Intake = { knowledge: this.knowledge, inspector: this.inspector, requests: this.requests, authenticator };
    const decisions = { find: (id: string) => Promise.resolve(this.decisions.get(id)) };
    const app = createApi({ intake, logger: silentLogger, clock: this.clock, bodyLimitBytes: 64 * 1024, startedAt: worldStart, decisions, authenticator });
    return { app, intake };
  }

  async close(): Promise<void> {
    await this.runner.close();
    await this.inspector.close();
  }
}

/** Calls the API in process: `authorization` is sent as given. */
export async function call(app: Hono, method: string, path: string, opts: { body?: unknown; authorization?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.authorization !== undefined) headers['authorization'] = opts.authorization;
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const response = await app.fetch(new Request(`http://dynamos.test${path}`, { method, headers, ...(body === undefined ? {} : { body }) }));
  return { status: response.status, json: (await response.json()) as Answer['json'], headers: response.headers };
}

/** The original request, from `userName`, to the stewards that authorise the analyst. */
export function requestBody(userName: string, providers: readonly string[] = ['VU', 'UVA']) {
  return {
    type: 'sqlDataRequest',
    user: { id: '12324', userName },
    dataProviders: providers,
    data_request: { type: 'sqlDataRequest', query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr', algorithm: 'average', options: { aggregate: false }, requestMetadata: {} },
  };
}
