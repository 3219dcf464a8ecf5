import { z } from 'zod';

/** One series of an instant vector: its labels, its value, and the evaluation time in ms. */
export interface InstantSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly atMs: number;
}

/** Why a query gave no answer, in words fit for `MetricsReading.failures`. */
export class QueryFailure extends Error {
  override readonly name = 'QueryFailure';
}

const sampleValue = z.tuple([z.number(), z.string()]);
const responseSchema = z.object({
  status: z.literal('success'),
  data: z.discriminatedUnion('resultType', [
    z.object({
      resultType: z.literal('vector'),
      result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sampleValue })),
    }),
    z.object({ resultType: z.literal('scalar'), result: sampleValue }),
    z.object({ resultType: z.literal('string'), result: sampleValue }),
    z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
  ]),
});
const errorBodySchema = z.object({ errorType: z.string().optional(), error: z.string().optional() });

/**
 * Runs one PromQL instant query (`POST /api/v1/query`, evaluated at Prometheus's now). Only an
 * instant vector can name parties, so a scalar or string answer is an empty vector. Values
 * Prometheus writes as `NaN`, `+Inf` or `-Inf` are dropped: they are not readings.
 * @throws QueryFailure for any HTTP, network or format problem; the signal's abort reason as is.
 */
export async function instantQuery(
  endpoint: URL,
  query: string,
  init: { readonly headers: Readonly<Record<string, string>>; readonly signal: AbortSignal },
): Promise<InstantSample[]> {
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { ...init.headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ query }),
      signal: init.signal,
    });
  } catch (error) {
    if (init.signal.aborted) throw init.signal.reason;
    throw new QueryFailure(describeNetworkError(error), { cause: error });
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    if (init.signal.aborted) throw init.signal.reason;
    throw new QueryFailure(`HTTP ${response.status}: the body broke off: ${describeNetworkError(error)}`, { cause: error });
  }
  const json = parseJson(text);
  if (!response.ok) {
    const body = errorBodySchema.safeParse(json);
    const why = body.success && body.data.error !== undefined ? `${body.data.errorType ?? 'error'}: ${body.data.error}` : text;
    throw new QueryFailure(`HTTP ${response.status} ${response.statusText}: ${truncate(why.trim() || '(empty body)')}`);
  }
  const parsed = responseSchema.safeParse(json);
  if (!parsed.success) throw new QueryFailure(`not a Prometheus answer: ${truncate(text.trim() || '(empty body)')}`);
  const data = parsed.data.data;
  if (data.resultType !== 'vector') return [];
  const samples: InstantSample[] = [];
  for (const series of data.result) {
    const value = Number(series.value[1]);
    if (Number.isFinite(value)) samples.push({ labels: series.metric, value, atMs: Math.round(series.value[0] * 1000) });
  }
  return samples;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function truncate(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** `fetch failed` says nothing; its cause (ECONNREFUSED, ENOTFOUND…) says what to fix. */
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (cause?.code !== undefined) return `${cause.message ?? 'network error'} (${cause.code})`;
  if (cause?.message !== undefined) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
