import type { IPoint } from 'influx';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import type { MetricSample } from '../../knowledge/ports/metrics-source.js';

/**
 * How decisions and samples look in InfluxDB (docs/telemetry.md). Tags carry only low-cardinality
 * values, so series stay few; ids and free text are fields. Timestamps are nanosecond strings: a
 * sample sits at its millisecond, a decision at its millisecond plus its log `seq` in the sub-ms
 * digits, so two decisions in the same millisecond never overwrite each other.
 */
export const decisionMeasurement = 'decisions';
export const sampleMeasurement = 'samples';

type Field = number | string;

export function decisionPoint(record: DecisionRecord): IPoint {
  const winner = record.candidates.find((c) => c.rank === 1);
  const fields: Record<string, Field> = {
    request_id: record.requestId,
    requester: record.requester,
    request_type: record.requestType,
    providers: record.providers.join(','),
    reason: record.reason,
    candidates: record.candidates.length,
    feasible_candidates: record.candidates.filter((c) => c.feasible).length,
  };
  const numbers: Record<string, number> = {
    seq: record.seq,
    latency_ms: record.outcome.latencyMs,
    bytes: record.outcome.bytes,
    cpu_seconds: record.outcome.cpuSeconds,
    energy_joules: record.outcome.energyJoules,
  };
  for (const o of winner?.objectives ?? []) numbers[`score_${fieldName(o.objective)}`] = o.score;
  for (const [name, value] of Object.entries(numbers)) if (Number.isFinite(value)) fields[name] = value;
  if (record.choice?.ttp !== undefined) fields['ttp'] = record.choice.ttp;
  if (record.outcome.reason !== undefined) fields['outcome_reason'] = record.outcome.reason;
  return {
    measurement: decisionMeasurement,
    tags: {
      strategy: tagValue(record.strategy),
      archetype: tagValue(record.choice?.archetype),
      outcome: record.outcome.kind,
      policy_revision: tagValue(record.policyRevision),
    },
    fields,
    timestamp: nanoseconds(record.at, record.seq),
  };
}

/** A sample as a point, or undefined when its value cannot be stored (NaN, ±Infinity). */
export function samplePoint(sample: MetricSample): IPoint | undefined {
  if (!Number.isFinite(sample.value)) return undefined;
  return {
    measurement: sampleMeasurement,
    tags: { party: tagValue(sample.party), signal: sample.signal },
    fields: { value: sample.value },
    timestamp: nanoseconds(sample.at, 0),
  };
}

/** `score_<objective>` takes the objective in snake case: `energyUse` → `energy_use`. */
export function fieldName(objective: string): string {
  const snake = objective
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return snake === '' ? 'unnamed' : snake;
}

/** InfluxDB drops a tag with an empty value; 'none' keeps the series queryable. */
function tagValue(value: string | undefined): string {
  return value === undefined || value === '' ? 'none' : value;
}

function nanoseconds(atMs: number, subMs: number): string {
  const ms = Math.max(0, Math.trunc(atMs));
  return `${ms}${String(Math.trunc(subMs) % 1_000_000).padStart(6, '0')}`;
}
