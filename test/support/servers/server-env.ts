/** The variables scripts/with-test-servers.ts sets for the test command. */
export type TestServerEnvVar =
  | 'RABBITMQ_URL'
  | 'RABBITMQ_NODENAME'
  | 'RABBITMQ_CTL_ENV'
  | 'PROM_URL'
  | 'PROM_TARGETS_FILE'
  | 'INFLUX_URL';

/** The value of `name`, or undefined when the tests run without the test servers. */
export function testServerEnv(name: TestServerEnvVar): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * For a real-server suite's `before`: the value of `name`, or the suite is skipped with a message
 * saying how to run it.
 */
export function requireTestServerEnv(ctx: Mocha.Context, name: TestServerEnvVar): string {
  const value = testServerEnv(name);
  if (value === undefined) {
    console.log(`      (skipped: ${name} is not set; run through scripts/with-test-servers.ts, see docs/testing.md)`);
    ctx.skip();
  }
  return value as string;
}
