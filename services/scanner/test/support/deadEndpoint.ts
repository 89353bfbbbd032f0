import { createServer } from "node:net";

/** A loopback port nothing listens on (bound, then released): connections to it are refused. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || !address) throw new Error("no port");
  return address.port;
}

/** An Azurite connection string whose table endpoint refuses connections: Storage is down. */
export async function storageDownConnectionString(connectionString: string): Promise<string> {
  const port = await refusedPort();
  return connectionString.replace(/TableEndpoint=http:\/\/[^/;]+/, `TableEndpoint=http://127.0.0.1:${port}`);
}
