#!/usr/bin/env node
/**
 * The sweep job's entry point (ingest's image; a scheduled Container Apps job in Azure): one sweep
 * with the configuration of `sweepConfigSpec`, then exit 0, or 1 with the error's one line.
 * `sweepFromConfig` is what `scanctl sweep` calls with the operator's environment.
 */
import { readFileSync } from "node:fs";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import type { TokenCredential } from "@azure/core-auth";
import {
  configVariables,
  isConfigError,
  type Logger,
  loadServiceConfig,
  type SweepConfig,
  sweepConfigSpec,
} from "@qcs/shared";
import {
  createCredential,
  createLogger,
  createServiceBusClient,
  createTableClient,
} from "@qcs/shared/runtime";
import { staticTokenCredential } from "./adapters/arm/armClients.ts";
import { serviceBusScanRequestSink } from "./adapters/serviceBus/scanRequestSender.ts";
import { compileExclusions } from "./core/exclusions.ts";
import { runSweep, type SweepSummary } from "./sweepRun.ts";

export type { SweepSummary } from "./sweepRun.ts";

export interface SweepRunOptions {
  dryRun: boolean;
  logger: Logger;
  /** Default: DefaultAzureCredential (a managed identity in Azure, the operator's login locally). */
  credential?: TokenCredential;
}

export async function sweepFromConfig(config: SweepConfig, options: SweepRunOptions): Promise<SweepSummary> {
  let credential = options.credential;
  const lazyCredential = () => (credential ??= createCredential(config.azure));
  const graph = new ResourceGraphClient(
    config.arm.staticToken ? staticTokenCredential(config.arm.staticToken) : lazyCredential(),
    {
      endpoint: config.arm.endpoint,
      // The pipeline's throttling policy waits out Retry-After on 429; these bound the other retries.
      retryOptions: { maxRetries: 4, retryDelayInMs: 1000, maxRetryDelayInMs: 30_000 },
      ...(config.arm.caFile ? { tlsOptions: { ca: readFileSync(config.arm.caFile, "utf8") } } : {}),
      userAgentOptions: { userAgentPrefix: "qcs-sweep" },
    },
  );
  const table = createTableClient(config.storage, config.workloadsTable, lazyCredential);
  const serviceBus = createServiceBusClient(config.serviceBus, config.azure);
  const sender = serviceBus.createSender(config.requestsQueue);
  try {
    if (!options.dryRun) await table.createTable();
    return await runSweep(
      { graph, table, requests: serviceBusScanRequestSink(sender) },
      {
        subscriptions: config.subscriptions,
        pageSize: config.pageSize,
        requestsPerSecond: config.requestsPerSecond,
        exclusions: compileExclusions(config.exclusions),
        dryRun: options.dryRun,
        logger: options.logger,
      },
    );
  } finally {
    await serviceBus.close();
  }
}

const HELP = `sweep: lists every container group, container app and job through Azure Resource Graph,
reconciles the Workloads table with it and sends one ScanRequested (source kind "sweep") per
distinct image. Runs once and exits (0: done; 1: the error, on one line).

Usage: node services/ingest/src/sweep.ts [--dry-run] [--json]
  --dry-run  list and plan only: write no row, send no request
  --json     print the summary as JSON on stdout (otherwise one line)

Sweeps SWEEP_SUBSCRIPTIONS, or every subscription the identity can read when it is empty.
Configuration comes from environment variables (see README.md, "Configuration"):
  ${configVariables(sweepConfigSpec).join("\n  ")}`;

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(HELP);
    return;
  }
  const unknown = argv.filter((arg) => !["--dry-run", "--json"].includes(arg));
  if (unknown.length > 0) throw new Error(`unknown option ${unknown[0]} (see --help)`);
  const { config, effective } = loadServiceConfig(sweepConfigSpec, process.env);
  const logger = createLogger({ name: "sweep", level: config.logLevel, format: config.logFormat });
  logger.info({ config: effective }, "starting");
  const summary = await sweepFromConfig(config, { dryRun: argv.includes("--dry-run"), logger });
  if (argv.includes("--json")) console.log(JSON.stringify(summary));
  else
    console.log(
      `sweep ${summary.runId}${summary.dryRun ? " (dry run)" : ""}: ${summary.workloads} workloads in ${summary.subscriptions.length} subscriptions, ${summary.images} images; rows +${summary.inserted} ~${summary.updated} -${summary.deleted}; ${summary.requestsSent} requests sent`,
    );
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    const text = isConfigError(error)
      ? error.issues.map((issue) => `${issue.variable}: ${issue.message}`).join("; ")
      : error instanceof Error
        ? error.message
        : String(error);
    console.error(`sweep failed: ${text.replaceAll("\n", " ")}`);
    process.exit(1);
  });
}
