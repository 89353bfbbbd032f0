/**
 * Port checks before anything starts, so that a port in use is reported by name and option
 * instead of as a stack trace from whichever server happened to bind it first.
 */
import { createServer } from "node:net";

export interface NamedPort {
  /** What listens there, e.g. "Service Bus (AMQP)". */
  label: string;
  /** The option that changes it, e.g. "--servicebus-port". */
  option: string;
  port: number;
}

export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
  readonly ports: readonly NamedPort[];
  constructor(host: string, ports: readonly NamedPort[]) {
    super(
      ports
        .map(
          (port) =>
            `port ${port.port} on ${host} (${port.label}) is in use: stop what listens there (another npm start?) or choose another with ${port.option} <n> (0 picks a free port)`,
        )
        .join("\n"),
    );
    this.ports = ports;
  }
}

/** Throws a {@link PortInUseError} naming every fixed port (not 0) that cannot be bound. */
export async function assertPortsFree(host: string, ports: readonly NamedPort[]): Promise<void> {
  const busy: NamedPort[] = [];
  for (const port of ports) {
    if (port.port === 0) continue;
    const error = await tryListen(host, port.port).then(
      (server) => new Promise<undefined>((resolve) => server.close(() => resolve(undefined))),
      (failure: NodeJS.ErrnoException) => failure,
    );
    if (error?.code === "EADDRINUSE" || error?.code === "EACCES") busy.push(port);
    else if (error) throw error;
  }
  if (busy.length > 0) throw new PortInUseError(host, busy);
}

/** A port that was free a moment ago (for servers that must be told their port in advance). */
export async function freePort(host: string): Promise<number> {
  const server = await tryListen(host, 0);
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("no port was assigned");
  return address.port;
}

function tryListen(host: string, port: number): Promise<ReturnType<typeof createServer>> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}
