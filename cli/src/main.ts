/**
 * Composition root of scanctl: reads the environment, turns global options into overrides, builds
 * the SDK clients and adapters a command asks for (on first use), runs the command, closes every
 * client, and maps the outcome to an exit status. No other file reads `process.env` or creates an
 * SDK client.
 */
import { EventHubProducerClient } from "@azure/event-hubs";
import { ServiceBusAdministrationClient, type ServiceBusClient } from "@azure/service-bus";
import {
  type Env,
  isConfigError,
  loadServiceConfig,
  parseWebhooks,
  type ScanctlConfig,
  type SweepConfig,
  scanctlConfigSpec,
  secretRedactor,
  sweepConfigSpec,
} from "@qcs/shared";
import { createCredential, createLogger, createServiceBusClient } from "@qcs/shared/runtime";
import { CommanderError } from "commander";
import { EventHubEventSender } from "./adapters/eventHubs/eventSender.ts";
import { FileReplayInputReader } from "./adapters/files/replayFiles.ts";
import { HttpRecorderApi } from "./adapters/recorder/recorderApi.ts";
import { ServiceBusDeadLetterQueue } from "./adapters/serviceBus/deadLetterQueue.ts";
import {
  developmentEmulatorPolicy,
  isDevelopmentEmulator,
  ServiceBusEntityCounts,
} from "./adapters/serviceBus/entityCounts.ts";
import { ServiceBusScanRequestSender } from "./adapters/serviceBus/scanRequestSender.ts";
import { type OutputStream, StreamTerminal } from "./adapters/terminal/terminal.ts";
import type { GlobalOptions, ScanctlContext } from "./commands/context.ts";
import { CliError, EXIT_CODE, type ExitCode, isCliError, usageError } from "./core/cliError.ts";
import { buildProgram } from "./program.ts";

export interface ScanctlIo {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: AsyncIterable<string | Uint8Array>;
  /** Aborted on SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

/** Tuning for tests and the local stack; every field optional. */
export interface ScanctlTuning {
  /** How long a dead-letter receive waits before concluding nothing is left. Default: 3 s. */
  receiveWaitMs?: number;
  /** How long one Service Bus / Event Hubs operation may take before it is retried. Default: 30 s. */
  operationTimeoutMs?: number;
}

/** Service Bus / Event Hubs operations fail after this many retries (a CLI must not hang for minutes). */
const MESSAGING_RETRY = { maxRetries: 2, retryDelayInMs: 500 };
const DEFAULT_OPERATION_TIMEOUT_MS = 30_000;

export async function runScanctl(
  argv: readonly string[],
  io: ScanctlIo,
  env: Env,
  tuning: ScanctlTuning = {},
): Promise<ExitCode> {
  const terminal = new StreamTerminal(io.stdout, io.stderr);
  const retryOptions = {
    ...MESSAGING_RETRY,
    timeoutInMs: tuning.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS,
  };
  const closers: Array<() => Promise<void>> = [];
  let globals: GlobalOptions = {};
  let config: ScanctlConfig | undefined;
  let serviceBus: ServiceBusClient | undefined;

  const loadConfig = (): ScanctlConfig => {
    config ??= loadScanctlConfig(env, globals);
    return config;
  };
  const serviceBusClient = (): ServiceBusClient => {
    if (serviceBus) return serviceBus;
    const { serviceBus: connection, azure } = loadConfig();
    if (connection === undefined) {
      throw new CliError(
        "CONFIG",
        "no Service Bus configured: set SERVICEBUS_CONNECTION_STRING, or SERVICEBUS_NAMESPACE (or --servicebus-namespace) for managed identity",
      );
    }
    const client = createServiceBusClient(connection, azure, { retryOptions });
    closers.push(() => client.close());
    serviceBus = client;
    return client;
  };

  const context: ScanctlContext = {
    terminal,
    signal: io.signal ?? new AbortController().signal,
    now: () => new Date(),
    configure(options) {
      globals = options;
    },
    deadLetterQueue(entity) {
      const settings = loadConfig();
      const source =
        entity === "requests"
          ? { queue: settings.scanRequestsQueue }
          : entity === "sweep"
            ? { queue: settings.scanRequestsSweepQueue }
            : entity === "notifications"
              ? { queue: settings.notificationsQueue }
              : { topic: settings.scanCompletedTopic, subscription: settings.recorderSubscription };
      return new ServiceBusDeadLetterQueue(serviceBusClient(), source, {
        ...(tuning.receiveWaitMs === undefined ? {} : { receiveWaitMs: tuning.receiveWaitMs }),
      });
    },
    async webhooks(override) {
      const settings = loadConfig();
      const problems: string[] = [];
      const webhooks =
        override === undefined
          ? settings.notify.webhooks
          : parseWebhooks(override.join(","), (problem) => problems.push(problem));
      for (const webhook of webhooks) secretRedactor.addSecret(webhook.url);
      if (problems.length > 0) throw usageError(`--webhook: ${problems.join("; ")}`);
      // Loaded on use: the CloudEvents SDK is large and only this command needs it.
      const { createWebhookPoster } = await import("@qcs/recorder/webhooks");
      const post = createWebhookPoster({
        source: settings.notify.source,
        secret: settings.notify.secret,
        timeoutMs: 10_000,
        userAgent: "scanctl",
      });
      return { webhooks, post };
    },
    entityCounts() {
      const settings = loadConfig();
      const connection = settings.serviceBus;
      if (connection === undefined) serviceBusClient(); // throws the configuration error
      const admin =
        connection?.kind === "connectionString"
          ? new ServiceBusAdministrationClient(connection.connectionString, {
              retryOptions: { maxRetries: 2 },
            })
          : new ServiceBusAdministrationClient(
              (connection as { fullyQualifiedNamespace: string }).fullyQualifiedNamespace,
              createCredential(settings.azure),
              { retryOptions: { maxRetries: 2 } },
            );
      if (connection?.kind === "connectionString" && isDevelopmentEmulator(connection.connectionString)) {
        // The client's options take no extra policies; its pipeline does.
        admin.pipeline.addPolicy(developmentEmulatorPolicy(settings.serviceBusEmulatorAdminPort));
      }
      return new ServiceBusEntityCounts(admin, {
        queues: [settings.scanRequestsQueue, settings.scanRequestsSweepQueue],
        topic: settings.scanCompletedTopic,
        subscription: settings.recorderSubscription,
      });
    },
    scanRequestSender() {
      const sender = serviceBusClient().createSender(loadConfig().scanRequestsQueue);
      closers.push(() => sender.close());
      return new ServiceBusScanRequestSender(sender);
    },
    eventSender() {
      const settings = loadConfig();
      const connection = settings.eventHubs;
      if (connection === undefined) {
        throw new CliError(
          "CONFIG",
          "no Event Hubs configured: set EVENTHUBS_CONNECTION_STRING, or EVENTHUBS_NAMESPACE (or --eventhubs-namespace) for managed identity",
        );
      }
      const options = { retryOptions };
      const producer =
        connection.kind === "connectionString"
          ? new EventHubProducerClient(connection.connectionString, settings.eventHubName, options)
          : new EventHubProducerClient(
              connection.fullyQualifiedNamespace,
              settings.eventHubName,
              createCredential(settings.azure),
              options,
            );
      closers.push(() => producer.close());
      return { eventHub: settings.eventHubName, sender: new EventHubEventSender(producer) };
    },
    replayInputs: () => new FileReplayInputReader(io.stdin),
    hasRecorder: () => loadConfig().recorder !== undefined,
    recorder() {
      const recorder = loadConfig().recorder;
      if (recorder === undefined) {
        throw new CliError(
          "CONFIG",
          "no recorder configured: set RECORDER_URL (or --recorder-url), and RECORDER_API_KEY",
        );
      }
      return new HttpRecorderApi(recorder);
    },
    async sweep(dryRun) {
      let config: SweepConfig;
      try {
        config = loadServiceConfig(sweepConfigSpec, env).config;
      } catch (error) {
        if (!isConfigError(error)) throw error;
        throw new CliError("CONFIG", error.issues.map((i) => `${i.variable}: ${i.message}`).join("; "));
      }
      // The sweep's SDK clients load only for this command.
      const { sweepFromConfig } = await import("@qcs/ingest/sweep");
      const logger = createLogger({
        name: "sweep",
        level: config.logLevel === "info" ? "warn" : config.logLevel,
        format: "json",
        destination: { write: (line: string) => void io.stderr.write(line) },
      });
      try {
        return await sweepFromConfig(config, { dryRun, logger });
      } catch (error) {
        throw new CliError(
          "UNAVAILABLE",
          `the sweep failed: ${error instanceof Error ? error.message : String(error)}`,
          {
            cause: error,
          },
        );
      }
    },
    operator: () => env.USER ?? env.USERNAME,
    environment: () => env,
    output: () => {
      const colors = env.NO_COLOR === undefined || env.NO_COLOR === "";
      const stream = (output: OutputStream) => ({
        isTerminal: output.isTTY === true,
        colors: output.isTTY === true && colors,
      });
      return { stdout: stream(io.stdout), stderr: stream(io.stderr) };
    },
  };

  const program = buildProgram(context, {
    writeOut: (text) => io.stdout.write(text),
    // Through the terminal like every human line (commander ends its text with a newline).
    writeErr: (text) => terminal.err(text.replace(/\n$/, "")),
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT_CODE.ok;
  } catch (error) {
    return reportError(
      error,
      terminal,
      globals.verbose === true || argv.includes("--verbose") || argv.includes("-v"),
    );
  } finally {
    await Promise.allSettled(closers.map((close) => close()));
  }
}

function loadScanctlConfig(env: Env, globals: GlobalOptions): ScanctlConfig {
  const overrides: Env = {};
  if (globals.servicebusNamespace !== undefined) {
    overrides.SERVICEBUS_NAMESPACE = globals.servicebusNamespace;
    overrides.SERVICEBUS_CONNECTION_STRING = undefined;
    overrides.SERVICEBUS_CONNECTION_STRING_FILE = undefined;
  }
  if (globals.eventhubsNamespace !== undefined) {
    overrides.EVENTHUBS_NAMESPACE = globals.eventhubsNamespace;
    overrides.EVENTHUBS_CONNECTION_STRING = undefined;
    overrides.EVENTHUBS_CONNECTION_STRING_FILE = undefined;
  }
  const named: Array<[keyof GlobalOptions, string]> = [
    ["queue", "SCAN_REQUESTS_QUEUE"],
    ["topic", "SCAN_COMPLETED_TOPIC"],
    ["subscription", "RECORDER_SUBSCRIPTION"],
    ["eventHub", "EVENTHUB_NAME"],
    ["recorderUrl", "RECORDER_URL"],
  ];
  for (const [option, variable] of named) {
    const value = globals[option];
    if (typeof value === "string") overrides[variable] = value;
  }
  try {
    return loadServiceConfig(scanctlConfigSpec, { ...env, ...overrides }).config;
  } catch (error) {
    if (!isConfigError(error)) throw error;
    throw new CliError(
      "CONFIG",
      `invalid configuration: ${error.issues.map((issue) => `${issue.variable}: ${issue.message}`).join("; ")}`,
      { cause: error },
    );
  }
}

function reportError(error: unknown, terminal: StreamTerminal, verbose: boolean): ExitCode {
  if (error instanceof CommanderError) {
    // Commander has printed its message (or the help) already.
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT_CODE.ok;
    return EXIT_CODE.usage;
  }
  if (isCliError(error)) {
    terminal.err(`scanctl: ${error.message}`);
    if (verbose) {
      for (const detail of error.details) terminal.err(`  ${detail}`);
      printCauses(error.cause, terminal);
    }
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  terminal.err(`scanctl: unexpected error: ${message.split("\n")[0]}`);
  if (verbose) printCauses(error, terminal);
  else terminal.err("  (--verbose shows details)");
  return EXIT_CODE.failure;
}

function printCauses(cause: unknown, terminal: StreamTerminal): void {
  let current = cause;
  for (let depth = 0; current !== undefined && depth < 5; depth += 1) {
    terminal.err(current instanceof Error ? (current.stack ?? current.message) : String(current));
    if (current instanceof AggregateError) for (const inner of current.errors) printCauses(inner, terminal);
    current = current instanceof Error ? current.cause : undefined;
  }
}
