import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DynamosError } from '../../../knowledge/errors.js';

const execFileAsync = promisify(execFile);
/** `ip` and `tc` answer in milliseconds; one stuck on a kernel lock must not hang the daemon. */
const commandTimeoutMs = 15_000;

/**
 * iproute2's `ip` and `tc`, by absolute path: the job's minimal PATH may not hold /usr/sbin, and a
 * launch prefix must not depend on it. Arguments are passed as a list, never through a shell.
 */
export interface NetCommands {
  readonly ipPath: string;
  ip(args: readonly string[]): Promise<string>;
  tc(args: readonly string[]): Promise<string>;
  /** `ip -j …` parsed; JSON output exists from iproute2 4.13. */
  ipJson(args: readonly string[]): Promise<unknown[]>;
}

/** Finds `ip` and `tc`; a sentence saying which is missing when one is. */
export async function findNetCommands(): Promise<NetCommands | string> {
  const ipPath = await findExecutable('ip');
  const tcPath = await findExecutable('tc');
  if (ipPath === undefined || tcPath === undefined) return `the ${ipPath === undefined ? 'ip' : 'tc'} command of iproute2 is not installed (looked in /usr/sbin, /sbin, /usr/bin, /bin and PATH)`;
  const ip = (args: readonly string[]) => run(ipPath, args);
  return {
    ipPath,
    ip,
    tc: (args) => run(tcPath, args),
    async ipJson(args) {
      const text = await ip(['-j', ...args]);
      const parsed: unknown = text.trim() === '' ? [] : JSON.parse(text);
      return Array.isArray(parsed) ? parsed : [];
    },
  };
}

async function run(file: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(file, args, { timeout: commandTimeoutMs, maxBuffer: 16 * 2 ** 20 });
    return stdout;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    const detail = stderr === '' ? (error as Error).message : stderr;
    throw new DynamosError('ADAPTER_UNAVAILABLE', `${path.basename(file)} ${args.join(' ')} failed: ${detail}`, { retryable: false, cause: error });
  }
}

async function findExecutable(name: string): Promise<string | undefined> {
  const dirs = ['/usr/sbin', '/sbin', '/usr/bin', '/bin', ...(process.env['PATH'] ?? '').split(':').filter((d) => path.isAbsolute(d))];
  for (const dir of dirs) {
    const file = path.join(dir, name);
    if (await access(file, constants.X_OK).then(() => true, () => false)) return file;
  }
  return undefined;
}

/** An IPv4 prefix as numbers, for overlap checks. */
interface Prefix {
  readonly base: number;
  readonly length: number;
}

function parsePrefix(text: string): Prefix | undefined {
  const [address = '', lengthText] = text.split('/');
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return undefined;
  const length = lengthText === undefined ? 32 : Number(lengthText);
  if (!Number.isInteger(length) || length < 0 || length > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  return { base: base - (base % 2 ** (32 - length)), length };
}

function overlaps(a: Prefix, b: Prefix): boolean {
  const length = Math.min(a.length, b.length);
  const size = 2 ** (32 - length);
  return Math.floor(a.base / size) === Math.floor(b.base / size);
}

/**
 * The third octet of a 10.213.x.0/24 that no route or address of this machine overlaps (default
 * routes aside), starting at `start` so that runners starting at once rarely pick the same one.
 */
export function freeSubnet(taken: readonly string[], start: number): number | undefined {
  const prefixes = taken.map(parsePrefix).filter((p): p is Prefix => p !== undefined && p.length > 0);
  for (let i = 0; i < 256; i++) {
    const x = (start + i) % 256;
    const candidate = parsePrefix(`10.213.${x}.0/24`) as Prefix;
    if (!prefixes.some((p) => overlaps(p, candidate))) return x;
  }
  return undefined;
}

/** Every IPv4 destination in every routing table and every address with its prefix. */
export async function routedPrefixes(net: NetCommands): Promise<string[]> {
  const routes = await net.ipJson(['-4', 'route', 'show', 'table', 'all']);
  const addresses = await net.ipJson(['-4', 'addr', 'show']);
  const prefixes: string[] = [];
  for (const route of routes) {
    const dst = (route as { dst?: unknown }).dst;
    if (typeof dst === 'string' && dst !== 'default') prefixes.push(dst);
  }
  for (const link of addresses) {
    for (const info of ((link as { addr_info?: unknown[] }).addr_info ?? []) as { local?: unknown; prefixlen?: unknown }[]) {
      if (typeof info.local === 'string' && typeof info.prefixlen === 'number') prefixes.push(`${info.local}/${info.prefixlen}`);
    }
  }
  return prefixes;
}
