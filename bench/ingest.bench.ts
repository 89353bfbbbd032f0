#!/usr/bin/env node
// Ingest throughput. Part 1: Activity Log records per second through parse and select on one core,
// with a realistic mix (mostly operations unrelated to containers; container writes with their
// Start/Accept/Failure records). Bounded in count; prints numbers, asserts nothing.
import { NO_EXCLUSIONS } from "../services/ingest/src/core/exclusions.ts";
import { parseEventBody } from "../services/ingest/src/core/parseBody.ts";
import { selectRecord } from "../services/ingest/src/core/select.ts";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 200_000);
const RECORDS_PER_EVENT = 50;
const SUBSCRIPTION = "ed6a948b-ba01-4eea-9471-c147cad379eb";

const UNRELATED = [
  ["MICROSOFT.STORAGE/STORAGEACCOUNTS", "WRITE"],
  ["MICROSOFT.STORAGE/STORAGEACCOUNTS", "LISTKEYS/ACTION"],
  ["MICROSOFT.WEB/SITES", "RESTART/ACTION"],
  ["MICROSOFT.KEYVAULT/VAULTS", "WRITE"],
  ["MICROSOFT.NETWORK/NETWORKSECURITYGROUPS", "WRITE"],
  ["MICROSOFT.COMPUTE/VIRTUALMACHINES", "START/ACTION"],
  ["MICROSOFT.RESOURCES/DEPLOYMENTS", "WRITE"],
  ["MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS", "WRITE"],
  ["MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS", "WRITE"],
] as const;
const CONTAINER = [
  "MICROSOFT.CONTAINERINSTANCE/CONTAINERGROUPS",
  "MICROSOFT.APP/CONTAINERAPPS",
  "MICROSOFT.APP/JOBS",
] as const;
const RESULTS = ["Start", "Accept", "Success", "Failure"] as const;

/** One record shaped like the diagnostic setting's (upper-cased IDs, identity claims, properties). */
function record(index: number): Record<string, unknown> {
  // 1 in 20 records concerns a container resource; the rest is the subscription's other traffic.
  const container = index % 20 === 0;
  const [type, verb] = container
    ? [CONTAINER[index % CONTAINER.length] ?? "", "WRITE"]
    : (UNRELATED[index % UNRELATED.length] ?? ["", ""]);
  const name = `RES-${index % 500}`;
  const resourceId = `/SUBSCRIPTIONS/${SUBSCRIPTION.toUpperCase()}/RESOURCEGROUPS/RG-${index % 40}/PROVIDERS/${type}/${name}`;
  return {
    time: new Date(Date.UTC(2025, 2, 14) + index * 250).toISOString(),
    resourceId,
    operationName: `${type}/${verb}`,
    category: "Administrative",
    resultType: RESULTS[Math.floor(index / 20) % RESULTS.length],
    resultSignature: "Succeeded.OK",
    durationMs: index % 3 === 0 ? String(index % 5000) : index % 5000,
    callerIpAddress: "203.0.113.42",
    correlationId: `b68e55d5-4884-455a-8245-${index.toString(16).padStart(12, "0")}`,
    identity: {
      authorization: { scope: resourceId.toLowerCase(), action: `${type}/${verb}`.toLowerCase() },
      claims: {
        appid: "1bfeffc3-a367-4314-bbde-14c768d76f43",
        "http://schemas.microsoft.com/identity/claims/objectidentifier":
          "be6dfcdb-f767-4607-88a8-f1e7d837fda3",
        "http://schemas.microsoft.com/identity/claims/tenantid": "4d60751d-0ddb-4485-ad23-9c9b3f579e5b",
        ver: "1.0",
      },
    },
    level: "Information",
    location: "global",
    properties: {
      eventCategory: "Administrative",
      entity: resourceId.toLowerCase(),
      message: `${type}/${verb}`,
    },
  };
}

const encoder = new TextEncoder();
const events: Uint8Array[] = [];
for (let start = 0; start < RECORDS; start += RECORDS_PER_EVENT) {
  const records = Array.from({ length: Math.min(RECORDS_PER_EVENT, RECORDS - start) }, (_, i) =>
    record(start + i),
  );
  events.push(encoder.encode(JSON.stringify({ records })));
}
const bytes = events.reduce((sum, event) => sum + event.byteLength, 0);

function run(): { selected: number; ms: number } {
  let selected = 0;
  const started = performance.now();
  for (const event of events) {
    for (const item of parseEventBody(event)) {
      if (item.ok && "selected" in selectRecord(item.record, NO_EXCLUSIONS)) selected += 1;
    }
  }
  return { selected, ms: performance.now() - started };
}

/** Baseline: only decoding the JSON, which bounds what parse + select can reach. */
function decodeOnly(): { selected: number; ms: number } {
  const decoder = new TextDecoder();
  const started = performance.now();
  for (const event of events) JSON.parse(decoder.decode(event));
  return { selected: 0, ms: performance.now() - started };
}

run(); // warm-up: JIT
const runs = Array.from({ length: 5 }, run).sort((a, b) => a.ms - b.ms);
const decode = Array.from({ length: 5 }, decodeOnly).sort((a, b) => a.ms - b.ms)[0];
const median = runs[2] ?? runs[0];
console.log(
  `parse + select, one core: ${RECORDS} Activity Log records in ${events.length} events of ${RECORDS_PER_EVENT}` +
    ` (${(bytes / RECORDS).toFixed(0)} bytes/record; 5% container operations, 1 in 4 of those a Success)`,
);
console.log("run              | ms     | records/s   | MB/s  | selected");
for (const [label, result] of [
  ["best", runs[0]],
  ["median", median],
  ["JSON only (best)", decode],
] as const) {
  if (!result) continue;
  console.log(
    `${label.padEnd(16)} | ${result.ms.toFixed(0).padStart(6)} | ${Math.round((RECORDS / result.ms) * 1000)
      .toLocaleString("en")
      .padStart(11)} | ${(bytes / 1e6 / (result.ms / 1000)).toFixed(0).padStart(5)} | ${result.selected}`,
  );
}

// Part 2: container events per second end to end: Event Hubs emulator -> ingest (main.ts wiring) ->
// lookups on the local ARM endpoint -> Service Bus emulator's queue, checkpoints in Azurite. First
// with a cold lookup cache (every event a new write: one ARM GET each), then the same events again
// with the cache warm (no ARM GET). The in-memory dedup window is off, so every event's requests are
// sent both times (the queue's duplicate detection drops the second copies).
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1000);
const { EventHubProducerClient } = await import("@azure/event-hubs");
const { startArmEmulator, startAzurite, startEventHubsEmulator, startServiceBusEmulator } = await import(
  "@qcs/emulators"
);
const { startIngest } = await import("@qcs/ingest");
const { mkdtemp, rm, writeFile } = await import("node:fs/promises");
const { tmpdir } = await import("node:os");
const { join } = await import("node:path");

const appId = (index: number) =>
  `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-bench/providers/Microsoft.App/containerApps/app-${index}`;
const inventory = Array.from({ length: EVENTS }, (_, index) => ({
  id: appId(index),
  name: `app-${index}`,
  type: "Microsoft.App/containerApps",
  properties: {
    template: {
      initContainers: [{ name: "init", image: "mcr.microsoft.com/azure-cli:2.63.0" }],
      containers: [
        { name: "api", image: `contosoprod.azurecr.io/bench/api-${index}:1.0` },
        { name: "sidecar", image: "ghcr.io/open-telemetry/opentelemetry-collector:0.104.0" },
      ],
    },
  },
}));
const gridEvent = (index: number) => [
  {
    id: `bench-${index}`,
    topic: `/subscriptions/${SUBSCRIPTION}`,
    subject: appId(index),
    eventType: "Microsoft.Resources.ResourceWriteSuccess",
    eventTime: new Date(Date.UTC(2025, 2, 14) + index).toISOString(),
    data: {
      operationName: "Microsoft.App/containerApps/write",
      resourceUri: appId(index),
      status: "Succeeded",
      correlationId: `c0ffee00-0000-4000-8000-${index.toString(16).padStart(12, "0")}`,
      subscriptionId: SUBSCRIPTION,
    },
    dataVersion: "2",
    metadataVersion: "1",
  },
];

const [eventHubs, serviceBus, azurite, arm] = await Promise.all([
  startEventHubsEmulator(),
  startServiceBusEmulator(),
  startAzurite(),
  startArmEmulator({ inventory }),
]);
const dir = await mkdtemp(join(tmpdir(), "qcs-ingest-bench-"));
await writeFile(join(dir, "ca.pem"), arm.ca);
const ingest = await startIngest({
  env: {
    EVENTHUBS_CONNECTION_STRING: eventHubs.connectionString,
    SERVICEBUS_CONNECTION_STRING: serviceBus.connectionString,
    STORAGE_CONNECTION_STRING: azurite.connectionString,
    ARM_ENDPOINT: arm.url,
    ARM_TOKEN: "bench-token",
    ARM_CA_FILE: join(dir, "ca.pem"),
    INGEST_DEDUP_WINDOW_SECONDS: "0",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "error",
    LOG_FORMAT: "json",
  },
  tuning: { maxWaitTimeInSeconds: 1 },
});
const counter = async (name: string) => {
  const text = await (await fetch(`${ingest.url}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
};

const producer = new EventHubProducerClient(eventHubs.connectionString, "activity-log");
try {
  console.log(
    `\nend to end: ${EVENTS} Event Grid container-app writes over 4 partitions, 3 images each, batches of 100, 8 lookups in flight per batch`,
  );
  console.log("ARM cache | events/s | requests sent/s | ARM GETs");
  for (const pass of ["cold", "warm"] as const) {
    const readBefore = await counter("ingest_records_read");
    const sentBefore = await counter("ingest_requests_sent");
    const getsBefore = arm.requests.length;
    const started = performance.now();
    let batch = await producer.createBatch();
    for (let index = 0; index < EVENTS; index += 1) {
      const event = { body: gridEvent(index), contentType: "application/json" };
      if (!batch.tryAdd(event)) {
        await producer.sendBatch(batch);
        batch = await producer.createBatch();
        batch.tryAdd(event);
      }
    }
    await producer.sendBatch(batch);
    while ((await counter("ingest_records_read")) - readBefore < EVENTS) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    const sent = (await counter("ingest_requests_sent")) - sentBefore;
    console.log(
      `${pass.padEnd(9)} | ${Math.round(EVENTS / seconds)
        .toString()
        .padStart(8)} | ${Math.round(sent / seconds)
        .toString()
        .padStart(15)} | ${arm.requests.length - getsBefore}`,
    );
  }
} finally {
  await producer.close();
  await ingest.shutdown();
  await Promise.allSettled([eventHubs.close(), serviceBus.close(), azurite.stop(), arm.close()]);
  await rm(dir, { recursive: true, force: true });
}
