import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';

/** A Debian package and the file whose presence says it is installed. */
export interface DebianPackage {
  readonly name: string;
  readonly binary: string;
}

const policyRcD = '/usr/sbin/policy-rc.d';

/**
 * Installs with apt-get whichever of `packages` is missing (one apt run for all, so parallel
 * server starts never fight over the dpkg lock). Package scripts are kept from starting the
 * system-wide services (a temporary policy-rc.d that denies every start), so no daemon is left
 * running behind the tests. Needs root, as CI has.
 */
export function ensureDebianPackages(packages: readonly DebianPackage[]): void {
  const missing = packages.filter((p) => !existsSync(p.binary));
  if (missing.length === 0) return;
  const names = missing.map((p) => p.name);
  if (process.getuid?.() !== 0) {
    throw new Error(`${names.join(', ')} missing (${missing.map((p) => p.binary).join(', ')}); install with: sudo apt-get install -y ${names.join(' ')}`);
  }
  process.stderr.write(`[test-servers] installing ${names.join(', ')} with apt-get\n`);
  const addedPolicy = !existsSync(policyRcD);
  if (addedPolicy) writeFileSync(policyRcD, '#!/bin/sh\n# dynamos test servers: no service starts during apt-get install\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update'], env);
    run('apt-get', ['install', '-y', '--no-install-recommends', ...names], env);
  } finally {
    if (addedPolicy) rmSync(policyRcD, { force: true });
  }
  const stillMissing = missing.filter((p) => !existsSync(p.binary));
  if (stillMissing.length > 0) throw new Error(`apt-get installed ${names.join(', ')} but ${stillMissing.map((p) => p.binary).join(', ')} is still missing`);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): void {
  const result = spawnSync(command, args, { env, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `status ${String(result.status)}`})`);
}
