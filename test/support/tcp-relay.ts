/**
 * A TCP relay on loopback that a test can cut like a network link: `cut()` stops moving bytes in
 * both directions and leaves the sockets open (as a dropped link does: no FIN, no RST), and new
 * connections are accepted and then starved; `heal()` drops the starved connections, so that
 * clients reconnect, and relays again. Used to cut one process off from one server.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpRelay {
  private cutOff = false;
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpRelay> {
    let relay: TcpRelay | undefined;
    const server = createServer((client) => relay?.accept(client, targetHost, targetPort));
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(0, '127.0.0.1', () => res());
    });
    const addr = server.address();
    relay = new TcpRelay(server, typeof addr === 'object' && addr ? addr.port : 0);
    return relay;
  }

  private accept(client: Socket, host: string, port: number): void {
    client.on('error', () => undefined);
    if (this.cutOff) {
      // Accepted by the kernel, never answered: like a SYN-ACK from a host that then went dark.
      client.pause();
      this.pairs.add([client, client]);
      return;
    }
    const upstream = connect(port, host);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    client.on('close', () => this.pairs.delete(pair));
    client.on('data', (d) => {
      if (!this.cutOff) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!this.cutOff) client.write(d);
    });
  }

  /** Bytes stop flowing both ways; no connection is closed. */
  cut(): void {
    this.cutOff = true;
  }

  /** Drops every connection held during the cut and relays new ones again. */
  heal(): void {
    this.cutOff = false;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
