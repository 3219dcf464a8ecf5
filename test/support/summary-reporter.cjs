// Mocha's spec output, closed by the one line CI reads: "N passed, N failed".
const Mocha = require('mocha');

const { Spec } = Mocha.reporters;
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      // Spec prints its epilogue on the same event; print after it.
      process.nextTick(() => {
        if (pending > 0) console.log(`\n${pending} skipped`);
        console.log(`\n${passes} passed, ${failures} failed`);
      });
    });
  }
}

module.exports = SummaryReporter;
