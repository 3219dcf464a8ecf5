import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
/** The real script, not the /usr/sbin wrapper (which switches user and HOME). */
const rabbitmqctl = '/usr/lib/rabbitmq/bin/rabbitmqctl';

/** The environment variables `rabbitmqctl` needs to reach a test node (HOME for the cookie, epmd port, …). */
export type RabbitMqCtlEnv = Readonly<Record<string, string>>;

/**
 * `rabbitmqctl` aimed at one node, from the environment the node was started with. Tests get that
 * environment as JSON in `RABBITMQ_CTL_ENV` (set by scripts/with-test-servers.ts) and restart the
 * broker with it: `RabbitMqControl.fromEnv()?.restart()`.
 */
export class RabbitMqControl {
  constructor(readonly ctlEnv: RabbitMqCtlEnv) {}

  /** The control for the node in `env.RABBITMQ_CTL_ENV`, or undefined when no test broker runs. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): RabbitMqControl | undefined {
    const json = env['RABBITMQ_CTL_ENV'];
    if (json === undefined || json === '') return undefined;
    const parsed: unknown = JSON.parse(json);
    if (parsed === null || typeof parsed !== 'object') throw new Error('RABBITMQ_CTL_ENV is not a JSON object');
    return new RabbitMqControl(parsed as RabbitMqCtlEnv);
  }

  get nodeName(): string {
    return this.ctlEnv['RABBITMQ_NODENAME'] ?? 'rabbit';
  }

  /** Runs `rabbitmqctl <args>` against the node; rejects with its output when it fails. */
  async run(args: readonly string[], timeoutMs = 60_000): Promise<string> {
    try {
      const { stdout } = await execFileAsync(rabbitmqctl, [...args], {
        env: { ...process.env, ...this.ctlEnv },
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
      });
      return stdout;
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`rabbitmqctl ${args.join(' ')} on ${this.nodeName} failed: ${(error as Error).message}\n${stdout}${stderr}`, { cause: error });
    }
  }

  /** Waits until the RabbitMQ application on the node is up. */
  async awaitStartup(timeoutMs = 60_000): Promise<void> {
    await this.run(['await_startup', '--timeout', String(Math.ceil(timeoutMs / 1000))], timeoutMs + 10_000);
  }

  /** Stops the RabbitMQ application (the Erlang node stays): every client connection drops. */
  async stopApp(): Promise<void> {
    await this.run(['stop_app']);
  }

  async startApp(): Promise<void> {
    await this.run(['start_app']);
    await this.awaitStartup();
  }

  /**
   * A broker restart as clients see it: connections drop, the listener goes away and comes back;
   * durable queues and persistent messages survive.
   */
  async restart(): Promise<void> {
    await this.stopApp();
    await this.startApp();
  }
}
