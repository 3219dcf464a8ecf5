import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SiteEnvelopes, SitesStatus } from '../../../../adapters/local/sites/site-envelopes.js';
import { openSiteEnvelopes } from '../../../../adapters/local/sites/site-envelopes.js';
import type { SitesSettingsInput } from '../../../../knowledge/site-settings.js';
import { sitesSettingsSchema } from '../../../../knowledge/site-settings.js';
import { silentLogger } from '../../../../knowledge/ports/logger.js';
import type { TestCgroupContainer } from './site-test-support.js';
import { exitOf, firstLine, ipOutput, isAlive, makeTestCgroupContainer, nextMessage, StartedProcesses, waitFor } from './site-test-support.js';

const mib = 2 ** 20;
const fixture = fileURLToPath(new URL('./fixtures/open-site-envelopes.ts', import.meta.url));
const tsxLoader = fileURLToPath(import.meta.resolve('tsx'));

/** In a job's place: listens on `host`, answers each connection with the bytes it received. */
const byteCounter = (host: string) => `const server = require('node:net').createServer((c) => {
  let n = 0;
  c.on('data', (d) => { n += d.length; });
  c.on('end', () => c.end(String(n)));
});
server.listen(0, ${JSON.stringify(host)}, () => process.send({ port: server.address().port }));`;

/** In a job's place: sends `bytes` to host:port, says over IPC how long until the answer came. */
const sender = (host: string, port: number, bytes: number) => `const started = performance.now();
const c = require('node:net').connect(${port}, ${JSON.stringify(host)}, () => c.end(Buffer.alloc(${bytes}, 7)));
let answer = '';
c.on('data', (d) => { answer += d; });
c.on('close', () => process.send({ answer, seconds: (performance.now() - started) / 1000 }));`;

/** Sends `bytes` from this process to host:port and resolves with the seconds until the answer. */
async function send(host: string, port: number, bytes: number): Promise<{ answer: string; seconds: number }> {
  const started = performance.now();
  const socket = net.connect(port, host, () => socket.end(Buffer.alloc(bytes, 7)));
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString()));
  await once(socket, 'close');
  return { answer, seconds: (performance.now() - started) / 1000 };
}

/** A server in this process on `host` that answers each connection with the bytes it received. */
async function listenHere(host: string): Promise<net.Server> {
  const server = net.createServer((c) => {
    let n = 0;
    c.on('data', (d: Buffer) => (n += d.length));
    c.on('end', () => c.end(String(n)));
  });
  server.listen(0, host);
  await once(server, 'listening');
  return server;
}

describe('site envelopes: each party\'s own network namespace and link', function () {
  let container: TestCgroupContainer | undefined;
  const started = new StartedProcesses();
  const opened: SiteEnvelopes[] = [];
  const servers: net.Server[] = [];

  before(async function () {
    const made = await makeTestCgroupContainer();
    if (typeof made === 'string') {
      console.log(`    (skipped: ${made}; network namespaces, veths and bridges need root)`);
      this.skip();
    }
    container = made;
    const probe = await openSiteEnvelopes(sitesSettingsSchema.parse({ SURF: { network: true } }), { runnerId: randomUUID(), logger: silentLogger, cgroupParent: made.parent });
    const reason = probe.status().reason;
    await probe.close();
    if (reason !== undefined) {
      console.log(`    (skipped: ${reason})`);
      this.skip();
    }
  });
  afterEach(async () => {
    await started.endAll();
    for (const server of servers.splice(0)) server.close();
    await Promise.all(opened.splice(0).map((e) => e.close()));
  });
  after(async () => container?.remove());

  async function open(sites: SitesSettingsInput): Promise<SiteEnvelopes> {
    const envelopes = await openSiteEnvelopes(sitesSettingsSchema.parse(sites), { runnerId: randomUUID(), logger: silentLogger, cgroupParent: container?.parent ?? '' });
    opened.push(envelopes);
    assert.equal(envelopes.status().reason, undefined);
    return envelopes;
  }

  function inSite(envelopes: SiteEnvelopes, party: string, script: string): ChildProcess & { pid: number } {
    const prefix = envelopes.launchPrefix(party);
    assert.ok(prefix !== undefined, `${party} has a launch prefix`);
    return started.node(script, prefix, 'inherit');
  }

  it('starts a process in the namespace that keeps its pid and its IPC channel to the parent', async () => {
    const envelopes = await open({ SURF: { network: true } });
    const job = inSite(envelopes, 'SURF', `const os = require('node:os');
      process.send({ pid: process.pid, addresses: Object.values(os.networkInterfaces()).flat().map((i) => i.address) });
      process.on('message', (m) => { if (m === 'ping') { process.send('pong'); process.disconnect(); } });`);
    const hello = await nextMessage<{ pid: number; addresses: string[] }>(job);
    assert.equal(hello.pid, job.pid, 'the pid the runner places is the job\'s own');
    assert.ok(hello.addresses.includes(envelopes.listenAddress('SURF')) && hello.addresses.includes('127.0.0.1'), hello.addresses.join(' '));
    const hostAddresses = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).filter((i) => !i.internal).map((i) => i.address));
    assert.deepEqual(hello.addresses.filter((a) => hostAddresses.includes(a)), [], 'none of the host\'s addresses');
    job.send('ping');
    assert.equal(await nextMessage(job), 'pong');
    assert.deepEqual(await exitOf(job), { code: 0, signal: null });
  });

  it('reaches the daemon\'s address from a namespace, a namespace from the host and from another namespace', async () => {
    const envelopes = await open({ SURF: { network: true }, UVA: { network: true }, VU: {} });
    assert.notEqual(envelopes.daemonAddress, '127.0.0.1');
    assert.equal(envelopes.listenAddress('VU'), envelopes.daemonAddress, 'a party without a namespace listens where namespaces reach it');
    const atDaemon = await listenHere(envelopes.listenAddress('VU'));
    servers.push(atDaemon);
    const fromSurf = inSite(envelopes, 'SURF', sender(envelopes.daemonAddress, (atDaemon.address() as AddressInfo).port, 1000));
    assert.equal((await nextMessage<{ answer: string }>(fromSurf)).answer, '1000', 'namespace → daemon');
    const atUva = inSite(envelopes, 'UVA', byteCounter(envelopes.listenAddress('UVA')));
    const { port } = await nextMessage<{ port: number }>(atUva);
    assert.equal((await send(envelopes.listenAddress('UVA'), port, 2000)).answer, '2000', 'host → namespace');
    const surfToUva = inSite(envelopes, 'SURF', sender(envelopes.listenAddress('UVA'), port, 3000));
    assert.equal((await nextMessage<{ answer: string }>(surfToUva)).answer, '3000', 'namespace → namespace over the bridge');
  });

  it('limits an 8 Mbit link in both directions (kernel enforcement: a lower bound on the time)', async () => {
    const envelopes = await open({ SURF: { network: true, linkMbit: 8 } });
    const bytes = 2 * mib;
    const leastSeconds = ((bytes * 8) / 8e6) * 0.8;
    const atDaemon = await listenHere(envelopes.daemonAddress);
    servers.push(atDaemon);
    const upload = inSite(envelopes, 'SURF', sender(envelopes.daemonAddress, (atDaemon.address() as AddressInfo).port, bytes));
    const up = await nextMessage<{ answer: string; seconds: number }>(upload);
    const atSurf = inSite(envelopes, 'SURF', byteCounter(envelopes.listenAddress('SURF')));
    const down = await send(envelopes.listenAddress('SURF'), (await nextMessage<{ port: number }>(atSurf)).port, bytes);
    console.log(`      (8 Mbit link: up ${((bytes * 8) / up.seconds / 1e6).toFixed(2)} Mbit/s, down ${((bytes * 8) / down.seconds / 1e6).toFixed(2)} Mbit/s)`);
    assert.equal(up.answer, String(bytes));
    assert.equal(down.answer, String(bytes));
    assert.ok(up.seconds >= leastSeconds, `2 MiB up took ${up.seconds.toFixed(2)} s`);
    assert.ok(down.seconds >= leastSeconds, `2 MiB down took ${down.seconds.toFixed(2)} s`);
  });

  it('leaves no namespace, veth, bridge or cgroup behind at close, ending what ran in the namespaces', async () => {
    const envelopes = await open({ SURF: { network: true, linkMbit: 50, cpus: 0.5 }, UVA: { network: true } });
    const status = envelopes.status();
    const job = inSite(envelopes, 'SURF', 'setInterval(() => undefined, 1000)');
    await envelopes.close();
    assert.deepEqual(await exitOf(job), { code: null, signal: 'SIGKILL' });
    assertGone(status);
    assert.equal(envelopes.launchPrefix('SURF'), undefined);
  });

  it('sweeps what a runner whose daemon was killed left: namespaces, veths, bridge, cgroups and the jobs in them', async () => {
    const daemon = started.track(
      spawn(process.execPath, ['--import', tsxLoader, fixture, JSON.stringify({ sites: { SURF: { network: true, linkMbit: 8, cpus: 0.5 } }, runnerId: randomUUID(), cgroupParent: container?.parent, sleeperIn: 'SURF' }), '--stay'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const { status, sleeperPid } = JSON.parse(await firstLine(daemon)) as { status: SitesStatus; sleeperPid: number };
    started.adopt(sleeperPid);
    assert.equal(status.reason, undefined);
    daemon.kill('SIGKILL');
    await exitOf(daemon);
    const namespace = status.sites['SURF']?.network?.namespace ?? '';
    assert.ok(ipOutput(['netns', 'list']).includes(namespace), 'the dead runner\'s namespace is still there');
    assert.ok(isAlive(sleeperPid), 'and so is its job');
    await open({ UVA: { network: true } });
    await waitFor(() => !isAlive(sleeperPid), 'the dead runner\'s job to end');
    assertGone(status);
  });
});

/** Nothing of what the status lists exists any more. */
function assertGone(status: SitesStatus): void {
  const namespaces = ipOutput(['netns', 'list']);
  const links = ipOutput(['-br', 'link']);
  for (const [party, site] of Object.entries(status.sites)) {
    assert.ok(site.network !== undefined && !namespaces.includes(site.network.namespace), `${party}'s namespace is gone`);
    assert.ok(!links.includes(site.network.hostInterface), `${party}'s veth is gone`);
    for (const dir of site.cgroups ?? []) assert.equal(existsSync(dir), false, `${dir} is gone`);
  }
  assert.ok(status.bridge !== undefined && !links.includes(`${status.bridge.name} `), 'the bridge is gone');
}
