// Mocha's spec output, closed by the one line CI reads: "N passed, N failed".
const Mocha = require('mocha');

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

/** How long the process may take to exit once the tests are done before it counts as a leak. */
const exitGraceMs = 15_000;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      // Spec prints its epilogue on the same event; print after it.
      process.nextTick(() => {
        if (pending > 0) console.log(`\n${pending} skipped`);
        console.log(`\n${passes} passed, ${failures} failed`);
        // Something a test left open (a server, a socket, a child) keeps Node alive: fail by name
        // instead of hanging CI. Unref'd, so a clean run exits at once.
        setTimeout(() => {
          const open = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
          console.log(`\nthe test process did not exit ${exitGraceMs / 1000} s after the last test; still open: ${open.join(', ')}`);
          console.log(`\n${passes} passed, ${failures + 1} failed`);
          process.exit(1);
        }, exitGraceMs).unref();
      });
    });
  }
}

module.exports = SummaryReporter;
