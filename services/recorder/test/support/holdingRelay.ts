/**
 * A TCP relay in front of a server (here Azurite's Table endpoint) that can hold what clients send:
 * while held, requests reach the relay but not the server, so the caller's writes hang the way
 * they do when storage stops answering, and `release()` lets them through in order.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** Start of an HTTP/1.1 request line, as the Azure SDK sends one. */
const REQUEST_LINE = /(?:^|\r\n)(?:GET|HEAD|POST|PUT|PATCH|MERGE|DELETE|OPTIONS) \S+ HTTP\/1\.1\r\n/g;

export class HoldingRelay {
  readonly #upstream: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  /** Data clients sent while held, per upstream connection, in order. */
  readonly #pending = new Map<Socket, Buffer[]>();
  #server: Server | undefined;
  #holding = false;
  /** HTTP requests that reached the relay while held (counted from their request lines). */
  heldRequests = 0;

  constructor(upstream: { host: string; port: number }) {
    this.#upstream = upstream;
  }

  async start(): Promise<number> {
    const server = createServer((client) => this.#accept(client));
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as { port: number }).port;
  }

  hold(): void {
    this.#holding = true;
  }

  release(): void {
    this.#holding = false;
    for (const [upstream, chunks] of this.#pending) for (const chunk of chunks) upstream.write(chunk);
    this.#pending.clear();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #accept(client: Socket): void {
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
    client.on("data", (chunk: Buffer) => {
      if (!this.#holding) {
        upstream.write(chunk);
        return;
      }
      this.heldRequests += chunk.toString("latin1").match(REQUEST_LINE)?.length ?? 0;
      const chunks = this.#pending.get(upstream) ?? [];
      chunks.push(chunk);
      this.#pending.set(upstream, chunks);
    });
  }
}
