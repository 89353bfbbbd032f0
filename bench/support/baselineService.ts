// The floor under a service's start-up: a process that loads the SDK clients the services use and
// fastify, creates the clients and answers /readyz, and does nothing else. bench/startup.bench.ts
// starts it like a service.
import { TableClient } from "@azure/data-tables";
import { EventHubConsumerClient } from "@azure/event-hubs";
import { ServiceBusClient } from "@azure/service-bus";
import { BlobServiceClient } from "@azure/storage-blob";
import Fastify from "fastify";

const env = process.env;
const storage = env.STORAGE_CONNECTION_STRING ?? "";
const clients = [
  new ServiceBusClient(env.SERVICEBUS_CONNECTION_STRING ?? ""),
  new EventHubConsumerClient("$Default", env.EVENTHUBS_CONNECTION_STRING ?? "", "activity-log"),
  TableClient.fromConnectionString(storage, "ScanMetadata", { allowInsecureConnection: true }),
  BlobServiceClient.fromConnectionString(storage),
];
const app = Fastify();
app.get("/readyz", async () => ({ status: "ready", clients: clients.length }));
await app.listen({ host: env.HOST ?? "127.0.0.1", port: Number(env.PORT ?? 0) });
process.on("SIGTERM", () => process.exit(0));
