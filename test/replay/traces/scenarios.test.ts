import assert from 'node:assert/strict';
import type { ScenarioName } from '../../../replay/traces/scenarios.js';
import { generateTrace, scenarioNames } from '../../../replay/traces/scenarios.js';
import type { TraceEventInput } from '../../../replay/traces/trace-format.js';
import { readTraceLines, traceLinesOf } from '../../../replay/traces/trace-file.js';
import { exampleConfig } from '../../support/fixtures.js';

const tenMinutes = 600_000;
const eventsOf = (scenario: ScenarioName, seed = 1) => [...generateTrace(scenario, exampleConfig(), { seed, durationMs: tenMinutes }).events];
const cpuOf = (events: TraceEventInput[], party: string, from: number, to: number) =>
  events.filter((e): e is Extract<TraceEventInput, { kind: 'metrics' }> => e.kind === 'metrics' && e.party === party && e.at >= from && e.at < to).map((e) => e.cpu as number);
const max = (xs: number[]) => Math.max(...xs);

describe('scenario generator', () => {
  it('gives the same events for the same seed, and others for another seed', () => {
    assert.equal(JSON.stringify(eventsOf('steady', 3)), JSON.stringify(eventsOf('steady', 3)));
    assert.notEqual(JSON.stringify(eventsOf('steady', 3)), JSON.stringify(eventsOf('steady', 4)));
  });

  for (const scenario of scenarioNames) {
    it(`writes a valid trace for ${scenario}, with about one request a second`, async () => {
      const trace = generateTrace(scenario, exampleConfig(), { seed: 1, durationMs: tenMinutes });
      const reader = await readTraceLines(traceLinesOf(trace));
      let requests = 0;
      for await (const e of reader.events()) if (e.kind === 'request') requests++;
      const expected = scenario === 'daily-curve' ? [150, 450] : [500, 700];
      assert.ok(requests >= (expected[0] as number) && requests <= (expected[1] as number), `${requests} requests`);
    });
  }

  it('overloads SURF only inside the window in ttp-overload, building up and easing off, and keeps it at its base in steady', () => {
    const overload = eventsOf('ttp-overload');
    // Window 180–360 s; the first and last quarter of it (45 s) are the ramps.
    assert.ok(cpuOf(overload, 'SURF', 225_000, 315_000).every((c) => c >= 0.85));
    const rising = cpuOf(overload, 'SURF', 180_000, 225_000);
    assert.ok(rising.some((c) => c > 0.6 && c < 0.85), `a ramp, not a step: ${rising.join(', ')}`);
    assert.ok(max(cpuOf(overload, 'SURF', 0, 180_000)) < 0.6 && max(cpuOf(overload, 'SURF', 360_000, tenMinutes)) < 0.6);
    assert.ok(max(cpuOf(eventsOf('steady'), 'SURF', 0, tenMinutes)) < 0.6);
    assert.ok(max(cpuOf(eventsOf('steady'), 'otherCompany', 0, tenMinutes)) < 0.35);
  });

  it('asks for aggregation in about half the requests', () => {
    const requests = eventsOf('steady').filter((e) => e.kind === 'request');
    const share = requests.filter((e) => e.kind === 'request' && e.options?.['aggregate'] === true).length / requests.length;
    assert.ok(share > 0.4 && share < 0.6, `share ${share}`);
  });

  it('keeps SURF within 3 points of 80 % in noisy-threshold, on both sides of it', () => {
    const cpu = cpuOf(eventsOf('noisy-threshold'), 'SURF', 0, tenMinutes);
    assert.ok(cpu.every((c) => Math.abs(c - 0.8) <= 0.03 + 1e-9));
    assert.ok(cpu.some((c) => c < 0.8) && cpu.some((c) => c >= 0.8));
  });

  it('takes the first steward down in steward-outage and revokes its relations once in agreement-revoked', () => {
    const down = eventsOf('steward-outage').filter((e) => e.kind === 'metrics' && e.party === 'UVA' && e.up === 0);
    assert.ok(down.length > 0 && down.every((e) => e.at >= 180_000 && e.at < 360_000));
    const changes = eventsOf('agreement-revoked').filter((e) => e.kind === 'agreement');
    assert.deepEqual(changes, [{ kind: 'agreement', at: 180_000, steward: 'UVA', agreement: { relations: {} } }]);
  });
});
