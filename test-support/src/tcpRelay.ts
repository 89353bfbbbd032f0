/**
 * A TCP relay between a client (an SDK) and a server (a broker, Azurite) that fails the way a
 * network or a server does: `hold()` keeps what clients send from reaching the server (their calls
 * hang as when the server stops answering) until `release()` lets it through in order; `cut()`
 * drops every connection; `refuse()` turns new connections away. A `clientFilter` may look at each
 * connection's bytes first and cut at a protocol event (see the AMQP one in the cli's tests).
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** Sees a connection's client bytes in order; returns what to forward and whether to cut every connection instead. */
export type ClientFilter = (chunk: Buffer) => { forward: Buffer; cut: boolean };

export interface TcpRelayOptions {
  /** Called once per connection; default: forward everything. */
  clientFilter?: () => ClientFilter;
}

export class TcpRelay {
  readonly #upstream: { host: string; port: number };
  readonly #options: TcpRelayOptions;
  readonly #sockets = new Set<Socket>();
  /** What clients sent while held, per upstream connection, in order. */
  readonly #pending = new Map<Socket, Buffer[]>();
  #server: Server | undefined;
  #port = 0;
  #holding = false;
  #refusing = false;
  /** Chunks that reached the relay while held (what a test may inspect). */
  readonly held: Buffer[] = [];
  /** Times every connection was cut. */
  cuts = 0;

  constructor(upstream: { host: string; port: number }, options: TcpRelayOptions = {}) {
    this.#upstream = upstream;
    this.#options = options;
  }

  async start(): Promise<number> {
    const server = createServer((client) => this.#accept(client));
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.#port = (server.address() as { port: number }).port;
    return this.#port;
  }

  /** The loopback port clients connect to (once started). */
  get port(): number {
    return this.#port;
  }

  hold(): void {
    this.#holding = true;
  }

  release(): void {
    this.#holding = false;
    for (const [upstream, chunks] of this.#pending) for (const chunk of chunks) upstream.write(chunk);
    this.#pending.clear();
  }

  /** Drops every open connection. */
  cut(): void {
    this.cuts += 1;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    this.#pending.clear();
  }

  /** While true, new connections are closed at once. */
  refuse(refusing = true): void {
    this.#refusing = refusing;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #accept(client: Socket): void {
    if (this.#refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(this.#upstream);
    this.#sockets.add(client).add(upstream);
    const forget = () => {
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
      this.#pending.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", forget).on("error", forget);
    upstream.on("close", forget).on("error", forget);
    upstream.on("data", (chunk) => client.write(chunk));
    const filter = this.#options.clientFilter?.() ?? ((chunk: Buffer) => ({ forward: chunk, cut: false }));
    client.on("data", (chunk: Buffer) => {
      const { forward, cut } = filter(chunk);
      if (cut) {
        this.cut();
        return;
      }
      if (forward.length === 0) return;
      if (!this.#holding) {
        upstream.write(forward);
        return;
      }
      this.held.push(forward);
      const chunks = this.#pending.get(upstream) ?? [];
      chunks.push(forward);
      this.#pending.set(upstream, chunks);
    });
  }
}
