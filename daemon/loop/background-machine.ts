import { assign, fromPromise, setup } from 'xstate';
import type { MetricsReading } from '../../knowledge/ports/metrics-source.js';

/** What the background machine needs from the world, swapped in tests with `provide` or fakes. */
export interface BackgroundMachineDeps {
  /** Reads fresh metrics (Monitor). */
  readonly read: (signal: AbortSignal) => Promise<MetricsReading>;
  readonly readDone: (reading: MetricsReading) => void;
  readonly readFailed: (error: unknown, failures: number) => void;
  /** Analyze the whole system and act on what it finds (level-triggered). */
  readonly act: () => void;
  /** Time between iterations, in ms. @default 15000 */
  readonly periodMs: number;
  /** Longest wait after repeated failures, in ms. */
  readonly maxBackoffMs: number;
}

interface Context {
  readonly deps: BackgroundMachineDeps;
  readonly failures: number;
  readonly iterations: number;
}

type Event = { readonly type: 'CHECK' } | { readonly type: 'REFRESH' };

/**
 * The background MAPE-K loop: read metrics, find symptoms, act; then wait a period. A failing
 * metrics source makes it wait longer each time (exponential, capped), never spin and never stop;
 * it still checks the knowledge it has. `CHECK` acts at once on the current knowledge (a policy
 * change must reach running work within a second); `REFRESH` reads at once.
 */
export const backgroundMachine = setup({
  types: { context: {} as Context, events: {} as Event, input: {} as { deps: BackgroundMachineDeps } },
  actors: {
    read: fromPromise<MetricsReading, BackgroundMachineDeps>(({ input, signal }) => input.read(signal)),
  },
  delays: {
    next: ({ context }) =>
      context.failures === 0 ? context.deps.periodMs : Math.min(context.deps.maxBackoffMs, context.deps.periodMs * 2 ** (context.failures - 1)),
  },
  actions: {
    act: ({ context }) => context.deps.act(),
  },
}).createMachine({
  id: 'background',
  context: ({ input }) => ({ deps: input.deps, failures: 0, iterations: 0 }),
  initial: 'reading',
  states: {
    waiting: {
      after: { next: 'reading' },
      on: { CHECK: 'checking', REFRESH: 'reading' },
    },
    reading: {
      invoke: {
        src: 'read',
        input: ({ context }) => context.deps,
        onDone: {
          target: 'checking',
          actions: [assign({ failures: 0 }), ({ context, event }) => context.deps.readDone(event.output)],
        },
        onError: {
          target: 'checking',
          actions: [assign({ failures: ({ context }) => context.failures + 1 }), ({ context, event }) => context.deps.readFailed(event.error, context.failures)],
        },
      },
      // A policy change must not wait for a slow read: act on it now, and again after the read.
      on: { CHECK: { actions: 'act' } },
    },
    checking: {
      entry: [assign({ iterations: ({ context }) => context.iterations + 1 }), 'act'],
      always: 'waiting',
    },
  },
});
