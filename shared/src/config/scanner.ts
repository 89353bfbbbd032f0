import { z } from "zod";
import { tryParseImageRef } from "../imageRef.ts";
import {
  boolVar,
  commonConfig,
  commonEnv,
  entityVar,
  intVar,
  listVar,
  messagingConnection,
  optionalString,
  serviceBusEnv,
  storageConnection,
  storageEnv,
  stringVar,
} from "./fields.ts";
import { defineServiceConfig } from "./load.ts";

/** Qualys platforms (PODs) qscanner accepts for `--pod`. */
export const QUALYS_PODS = [
  "US1",
  "US2",
  "US3",
  "US4",
  "EU1",
  "EU2",
  "EU3",
  "IN1",
  "CA1",
  "AE1",
  "UK1",
  "AU1",
  "KSA1",
] as const;

export const scannerConfigSpec = defineServiceConfig({
  service: "scanner",
  env: z.object({
    ...commonEnv,
    ...serviceBusEnv,
    ...storageEnv,
    SCAN_REQUESTS_QUEUE: entityVar("SCAN_REQUESTS_QUEUE"),
    SCAN_REQUESTS_SWEEP_QUEUE: entityVar("SCAN_REQUESTS_SWEEP_QUEUE"),
    SCAN_COMPLETED_TOPIC: entityVar("SCAN_COMPLETED_TOPIC"),
    SCAN_METADATA_TABLE: entityVar("SCAN_METADATA_TABLE"),
    QUALYS_POD: z.enum(QUALYS_PODS, { error: `expected one of ${QUALYS_PODS.join(", ")}` }),
    QUALYS_ACCESS_TOKEN: z.string({ error: "required (or QUALYS_ACCESS_TOKEN_FILE)" }).min(1),
    QSCANNER_PATH: stringVar("qscanner"),
    QSCANNER_VERSION: optionalString(),
    /** Scans running at once in one replica. */
    SCANNER_CONCURRENCY: intVar(2, 1, 64),
    /** Deployment scans started in a row while sweep requests wait; then one free slot goes to the sweep. */
    SCANNER_PRIORITY_STREAK: intVar(10, 1, 10_000),
    /** A digest scanned successfully within this many hours is not scanned again (unless forced). */
    SCAN_CACHE_HOURS: intVar(24, 0, 24 * 365),
    /** Seconds one qscanner run may take before its process group is killed. */
    SCAN_TIMEOUT: intVar(1800, 10, 6 * 3600),
    /** Pass resource context to qscanner as `--scan-target-info key=value` (unconfirmed flag: off by default). */
    QSCANNER_SEND_TARGET_INFO: boolVar(false),
    /** `--scan-types` (comma-separated); empty: the scanner's default, `os,sca,secret`. Values depend on the qscanner version. */
    QSCANNER_SCAN_TYPES: listVar(),
    /** `--platform` of the image to scan (ACI and ACA run linux/amd64). */
    QSCANNER_PLATFORM: stringVar("linux/amd64"),
    /** `acr-exchange`: the scanner trades its managed identity for an ACR token and hands it to qscanner; `none`: qscanner authenticates itself. */
    REGISTRY_AUTH: z.enum(["acr-exchange", "none"]).default("acr-exchange"),
    /** Unit of the retry delays of the failure policy (services/scanner/README.md). */
    SCAN_RETRY_DELAY_SECONDS: intVar(60, 0, 3600),
    /** Registries on loopback, link-local or private addresses that may be scanned (`host` or `host:port`). */
    SCANNER_ALLOWED_PRIVATE_REGISTRIES: listVar(),
  }),
  secrets: ["SERVICEBUS_CONNECTION_STRING", "STORAGE_CONNECTION_STRING", "QUALYS_ACCESS_TOKEN"],
  build: (env, issue) => ({
    ...commonConfig(env),
    serviceBus: messagingConnection(
      "SERVICEBUS",
      env.SERVICEBUS_CONNECTION_STRING,
      env.SERVICEBUS_NAMESPACE,
      issue,
    ),
    storage: storageConnection(env.STORAGE_CONNECTION_STRING, env.STORAGE_ACCOUNT_NAME, issue),
    scanRequestsQueue: env.SCAN_REQUESTS_QUEUE,
    scanRequestsSweepQueue: env.SCAN_REQUESTS_SWEEP_QUEUE,
    scanCompletedTopic: env.SCAN_COMPLETED_TOPIC,
    scanMetadataTable: env.SCAN_METADATA_TABLE,
    qualys: { pod: env.QUALYS_POD, accessToken: env.QUALYS_ACCESS_TOKEN },
    qscanner: {
      path: env.QSCANNER_PATH,
      version: env.QSCANNER_VERSION,
      sendTargetInfo: env.QSCANNER_SEND_TARGET_INFO,
      scanTypes: env.QSCANNER_SCAN_TYPES.length > 0 ? env.QSCANNER_SCAN_TYPES : undefined,
      platform: env.QSCANNER_PLATFORM,
    },
    registryAuth: env.REGISTRY_AUTH,
    allowedPrivateRegistries: env.SCANNER_ALLOWED_PRIVATE_REGISTRIES.map((entry) => {
      // Compared with the registry of a canonical reference, which is a lower-case host[:port].
      const parsed = tryParseImageRef(`${entry}/x`);
      if (!parsed.ok || parsed.value.registry !== entry.toLowerCase()) {
        issue("SCANNER_ALLOWED_PRIVATE_REGISTRIES", `${JSON.stringify(entry)} is not a registry host[:port]`);
      }
      return entry.toLowerCase();
    }),
    retryBaseDelayMs: env.SCAN_RETRY_DELAY_SECONDS * 1000,
    concurrency: env.SCANNER_CONCURRENCY,
    maxPriorityStreak: env.SCANNER_PRIORITY_STREAK,
    cacheMs: env.SCAN_CACHE_HOURS * 3_600_000,
    scanTimeoutMs: env.SCAN_TIMEOUT * 1000,
  }),
});
export type ScannerConfig = ReturnType<typeof scannerConfigSpec.build>;
