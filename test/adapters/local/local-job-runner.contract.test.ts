import { once } from 'node:events';
import { SimulatedClock } from 'xstate';
import { LocalJobRunner } from '../../../adapters/local/local-job-runner.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { jobRunnerContract } from '../../contract/job-runner.contract.js';
import { jobTempDirsOfThisProcess, processesOfRunner } from '../../support/processes.js';

jobRunnerContract('local processes', () => {
  const clock = new SimulatedClock();
  const runner = new LocalJobRunner({ warmProcesses: 1 }, { logger: silentLogger, clock });
  const running = new Map<string, number>();
  runner.events.on('jobAssigned', (event: { party: string; pid: number }) => running.set(event.party, event.pid));
  runner.events.on('jobEnded', (report: { party: string }) => running.delete(report.party));
  return Promise.resolve({
    runner,
    clock,
    jobsRunning: async (count) => {
      while (running.size < count) await once(runner.events, 'jobAssigned');
    },
    crash: (party) => {
      process.kill(running.get(party) as number, 'SIGKILL');
      return Promise.resolve();
    },
    // The one fresh process the pool keeps warm is the runner's, not a deployment's.
    leftovers: () => Promise.resolve([...(processesOfRunner(runner.runnerId).length > 1 ? ['more job processes than the warm pool'] : []), ...jobTempDirsOfThisProcess()]),
    close: async () => {
      await runner.close();
    },
  });
});
