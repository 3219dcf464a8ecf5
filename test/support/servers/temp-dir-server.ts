import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ServerProcess } from './server-process.js';

/**
 * A test server of one process living in a temp dir of its own, on a loopback port: its URL, and a
 * stop that ends the process and removes the dir. Subclasses start the process.
 */
export abstract class TempDirServer {
  protected dir: string | undefined;
  protected server: ServerProcess | undefined;
  protected port = 0;

  /** `http://127.0.0.1:PORT` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stops the process and removes its temp dir. Safe to call twice or after a failed start. */
  async stop(): Promise<void> {
    const { server, dir } = this;
    this.server = undefined;
    this.dir = undefined;
    if (server !== undefined) await server.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }

  /** A fresh temp dir for a start; refuses a second start. */
  protected async makeDir(prefix: string): Promise<string> {
    if (this.server !== undefined) throw new Error(`${this.constructor.name} already started`);
    this.dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    return this.dir;
  }
}
