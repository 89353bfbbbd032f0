/** Table clients on a running Azurite, one table pair per test so tests do not see each other's rows. */
import { randomBytes } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import { createLogger } from "@qcs/shared/runtime";
import { TableScanRecords } from "../../src/adapters/tableStorage/tableScanRecords.ts";

export function tableNames() {
  const suffix = randomBytes(4).toString("hex");
  return { metadata: `ScanMetadata${suffix}`, history: `ScanHistory${suffix}` };
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
