import net from 'node:net';

/** A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port assigned on 127.0.0.1'));
      });
    });
  });
}

/** Whether `port` on 127.0.0.1 can be bound now. */
export async function isLoopbackPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive free loopback ports, first one returned. For tools that take a port range
 * (the Erlang CLI's distribution ports) rather than one port.
 */
export async function freeLoopbackPortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await freeLoopbackPort();
    if (first + count > 65_535) continue;
    let allFree = true;
    for (let port = first + 1; port < first + count && allFree; port++) allFree = await isLoopbackPortFree(port);
    if (allFree) return first;
  }
  throw new Error(`found no ${count} consecutive free ports on 127.0.0.1`);
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export async function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
