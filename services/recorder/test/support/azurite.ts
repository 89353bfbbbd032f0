/** Table clients on a running Azurite, one table pair per test so tests do not see each other's rows. */
import { randomBytes } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { type WorkloadEntity, workloadKey } from "@qcs/shared";
import { createLogger } from "@qcs/shared/runtime";
import { TableScanRecords } from "../../src/adapters/tableStorage/tableScanRecords.ts";
import { TableWorkloads } from "../../src/adapters/tableStorage/tableWorkloads.ts";
import { CoverageReport } from "../../src/core/coverageReport.ts";

export function tableNames() {
  const suffix = randomBytes(4).toString("hex");
  return {
    metadata: `ScanMetadata${suffix}`,
    history: `ScanHistory${suffix}`,
    workloads: `Workloads${suffix}`,
  };
}

export function tableClient(connectionString: string, table: string): TableClient {
  return TableClient.fromConnectionString(connectionString, table, {
    allowInsecureConnection: true,
    // Fail fast in tests; the recorder's own retries are what is under test.
    retryOptions: { maxRetries: 0 },
  });
}

/** One "replica": its own clients, so concurrent writers share nothing but the server. */
export async function tableRecords(connectionString: string, names = tableNames()) {
  const records = new TableScanRecords({
    metadata: tableClient(connectionString, names.metadata),
    history: tableClient(connectionString, names.history),
    logger: createLogger({ name: "test", level: "silent" }),
  });
  await records.ensureTables();
  return { records, names };
}

/** Coverage over a test's tables; Workloads rows are seeded by the test as ingest would write them. */
export function coverageReport(
  connectionString: string,
  records: TableScanRecords,
  options: { workloadsTable: string; sloHours?: number; cacheMs?: number; now?: () => number },
) {
  return new CoverageReport({
    workloads: new TableWorkloads(
      tableClient(connectionString, options.workloadsTable),
      createLogger({ name: "test", level: "silent" }),
    ),
    states: records,
    sloHours: options.sloHours ?? 30,
    cacheMs: options.cacheMs ?? 0,
    onRefreshFailed: (error) => {
      throw error;
    },
    ...(options.now ? { now: options.now } : {}),
  });
}

/** A Workloads row in the shared contract's shape. */
export function workloadRow(
  subscriptionId: string,
  name: string,
  refs: string[],
  seenAt = new Date(),
): WorkloadEntity {
  const resourceId = `/subscriptions/${subscriptionId}/resourceGroups/rg-apps/providers/Microsoft.App/containerApps/${name}`;
  return {
    ...workloadKey(resourceId, subscriptionId),
    ResourceId: resourceId,
    SubscriptionId: subscriptionId,
    ResourceGroup: "rg-apps",
    Name: name,
    Kind: "aca",
    Images: JSON.stringify(refs.map((ref, i) => ({ container: `c${i}`, ref, init: false }))),
    FirstSeenAt: seenAt,
    LastSeenAt: seenAt,
    SeenBy: "sweep",
  };
}
