import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { assertPortsFree, freePort, PortInUseError } from "../../../src/dev/adapters/net/ports.ts";

describe("port checks", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  });

  async function occupy(): Promise<number> {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as { port: number }).port;
  }

  it("names the port in use, what needs it and the option that moves it", async () => {
    const busy = await occupy();
    const free = await freePort("127.0.0.1");
    const check = assertPortsFree("127.0.0.1", [
      { label: "Service Bus (AMQP)", option: "--servicebus-port", port: free },
      { label: "recorder API", option: "--recorder-port", port: busy },
      { label: "ingest", option: "--ingest-port", port: 0 },
    ]);
    await expect(check).rejects.toBeInstanceOf(PortInUseError);
    await expect(check).rejects.toThrow(
      `port ${busy} on 127.0.0.1 (recorder API) is in use: stop what listens there (another npm start?) or choose another with --recorder-port <n> (0 picks a free port)`,
    );
  });

  it("accepts free ports and skips port 0", async () => {
    const free = await freePort("127.0.0.1");
    await expect(
      assertPortsFree("127.0.0.1", [
        { label: "a", option: "--a", port: free },
        { label: "b", option: "--b", port: 0 },
      ]),
    ).resolves.toBeUndefined();
  });
});
