#!/usr/bin/env node
// Sweep throughput: workloads per second from Resource Graph pages (the ARM emulator) into the
// Workloads table (Azurite, batch transactions) and requests on the queue (the Service Bus
// emulator), beside the raw Resource Graph paging rate of the same inventory in the same run.
// BENCH_WORKLOADS (default 10,000) over two subscriptions, one image per 3.3 workloads. Prints numbers.
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { TableClient } from "@azure/data-tables";
import { ServiceBusClient } from "@azure/service-bus";
import { startArmEmulator, startAzurite, startServiceBusEmulator } from "@qcs/emulators";
import { ENTITY_DEFAULTS } from "@qcs/shared";
import { createLogger } from "@qcs/shared/runtime";
import { staticTokenCredential } from "../services/ingest/src/adapters/arm/armClients.ts";
import { listWorkloadsInGraph } from "../services/ingest/src/adapters/arm/resourceGraphListing.ts";
import { serviceBusScanRequestSink } from "../services/ingest/src/adapters/serviceBus/scanRequestSender.ts";
import { NO_EXCLUSIONS } from "../services/ingest/src/core/exclusions.ts";
import { runSweep } from "../services/ingest/src/sweepRun.ts";

const WORKLOADS = Number(process.env.BENCH_WORKLOADS ?? 10_000);
const IMAGES = Math.ceil(WORKLOADS * 0.3);
const SUBSCRIPTIONS = ["ed6a948b-ba01-4eea-9471-c147cad379eb", "0b1f6471-1bf0-4dda-aec3-cb9272f09590"];
const TOKEN = "bench-token";

const inventory = Array.from({ length: WORKLOADS }, (_, i) => {
  const subscription = SUBSCRIPTIONS[i % 2] as string;
  const name = `app-${i}`;
  return {
    id: `/subscriptions/${subscription}/resourceGroups/rg-${i % 20}/providers/Microsoft.App/containerApps/${name}`,
    name,
    type: "Microsoft.App/containerApps",
    location: "westeurope",
    properties: {
      template: {
        containers: [{ name: "main", image: `myreg.azurecr.io/team/svc-${i % IMAGES}:1.0` }],
        initContainers: [{ name: "init", image: "myreg.azurecr.io/team/migrate:1.0" }],
      },
    },
  };
});

const [arm, azurite, serviceBus] = await Promise.all([
  startArmEmulator({ inventory, token: TOKEN }),
  startAzurite(),
  startServiceBusEmulator(),
]);
const serviceBusClient = new ServiceBusClient(serviceBus.connectionString);
try {
  const graph = new ResourceGraphClient(staticTokenCredential(TOKEN), {
    endpoint: arm.url,
    tlsOptions: { ca: arm.ca },
  });
  const table = TableClient.fromConnectionString(azurite.connectionString, "Workloads", {
    allowInsecureConnection: true,
  });
  await table.createTable();

  let started = performance.now();
  const listing = await listWorkloadsInGraph(graph, SUBSCRIPTIONS);
  const pagingSeconds = (performance.now() - started) / 1000;

  const sender = serviceBusClient.createSender(ENTITY_DEFAULTS.SCAN_REQUESTS_SWEEP_QUEUE);
  started = performance.now();
  const summary = await runSweep(
    { graph, table, requests: serviceBusScanRequestSink(sender) },
    {
      subscriptions: SUBSCRIPTIONS,
      pageSize: 1000,
      requestsPerSecond: 10_000,
      exclusions: NO_EXCLUSIONS,
      dryRun: false,
      logger: createLogger({ name: "bench", level: "silent" }),
    },
  );
  const sweepSeconds = (performance.now() - started) / 1000;

  // A second sweep over the same rows: every row an update, none removed.
  started = performance.now();
  await runSweep(
    { graph, table, requests: serviceBusScanRequestSink(sender) },
    {
      subscriptions: SUBSCRIPTIONS,
      pageSize: 1000,
      requestsPerSecond: 10_000,
      exclusions: NO_EXCLUSIONS,
      dryRun: false,
      logger: createLogger({ name: "bench", level: "silent" }),
    },
  );
  const resweepSeconds = (performance.now() - started) / 1000;

  const rate = (count: number, seconds: number) => `${Math.round(count / seconds)}/s`;
  console.log(
    `workloads ${WORKLOADS} in ${SUBSCRIPTIONS.length} subscriptions, ${summary.images} distinct images`,
  );
  console.log(
    `baseline: Resource Graph paging alone   ${listing.rows.length} rows, ${listing.pages} pages in ${pagingSeconds.toFixed(2)} s = ${rate(listing.rows.length, pagingSeconds)}`,
  );
  console.log(
    `first sweep (inserts + ${summary.requestsSent} requests)   ${sweepSeconds.toFixed(2)} s = ${rate(summary.workloads, sweepSeconds)} workloads`,
  );
  console.log(
    `second sweep (updates + requests)       ${resweepSeconds.toFixed(2)} s = ${rate(summary.workloads, resweepSeconds)} workloads`,
  );
} finally {
  await serviceBusClient.close();
  await Promise.allSettled([arm.close(), azurite.stop(), serviceBus.close()]);
}
