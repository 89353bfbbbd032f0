import { z } from "zod";
import {
  armConnection,
  armEnv,
  commonConfig,
  commonEnv,
  entityVar,
  exclusionEnv,
  exclusionsOf,
  intVar,
  listVar,
  messagingConnection,
  serviceBusEnv,
  storageConnection,
  storageEnv,
} from "./fields.ts";
import { defineServiceConfig } from "./load.ts";

const SUBSCRIPTION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The sweep (`node services/ingest/src/sweep.ts`, and `scanctl sweep`): ingest's ARM, storage,
 * Service Bus and exclusion settings, and its own. A run-to-completion job: HOST and PORT are read
 * but unused.
 */
export const sweepConfigSpec = defineServiceConfig({
  service: "sweep",
  env: z.object({
    ...commonEnv,
    ...serviceBusEnv,
    ...storageEnv,
    WORKLOADS_TABLE: entityVar("WORKLOADS_TABLE"),
    /** Queue of the sweep's requests: the scanner takes them only when no deployment request waits. */
    SWEEP_REQUESTS_QUEUE: entityVar("SCAN_REQUESTS_SWEEP_QUEUE"),
    /** Subscriptions to sweep (comma list); empty: every subscription the identity can read. */
    SWEEP_SUBSCRIPTIONS: listVar(),
    /** Most ScanRequested messages sent per second, so a sweep does not flood the scanners. */
    SWEEP_REQUESTS_PER_SECOND: intVar(50, 1, 10_000),
    /** Rows per Resource Graph page ($top; Resource Graph allows at most 1000). */
    SWEEP_PAGE_SIZE: intVar(1000, 1, 1000),
    ...armEnv,
    ...exclusionEnv,
  }),
  secrets: ["SERVICEBUS_CONNECTION_STRING", "STORAGE_CONNECTION_STRING", "ARM_TOKEN"],
  build: (env, issue) => {
    for (const id of env.SWEEP_SUBSCRIPTIONS)
      if (!SUBSCRIPTION_ID.test(id))
        issue("SWEEP_SUBSCRIPTIONS", `${JSON.stringify(id)} is not a subscription ID`);
    return {
      ...commonConfig(env),
      serviceBus: messagingConnection(
        "SERVICEBUS",
        env.SERVICEBUS_CONNECTION_STRING,
        env.SERVICEBUS_NAMESPACE,
        issue,
      ),
      storage: storageConnection(env.STORAGE_CONNECTION_STRING, env.STORAGE_ACCOUNT_NAME, issue),
      workloadsTable: env.WORKLOADS_TABLE,
      requestsQueue: env.SWEEP_REQUESTS_QUEUE,
      subscriptions: env.SWEEP_SUBSCRIPTIONS.map((id) => id.toLowerCase()),
      requestsPerSecond: env.SWEEP_REQUESTS_PER_SECOND,
      pageSize: env.SWEEP_PAGE_SIZE,
      arm: armConnection(env),
      exclusions: exclusionsOf(env),
    };
  },
});
export type SweepConfig = ReturnType<typeof sweepConfigSpec.build>;
