import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that forwards the server's bytes to the client `delayMs` late
 * (in order; the client's bytes go through at once): every answer of the server behind it
 * arrives that much later than anything the server sends on a direct connection.
 */
export async function startDelayProxy(targetPort: number, delayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      setTimeout(() => {
        if (!client.destroyed) client.write(chunk);
      }, delayMs);
    });
    const drop = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      // After the delayed bytes, so an answer in flight is not cut short.
      setTimeout(() => {
        client.destroy();
        upstream.destroy();
      }, delayMs);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
