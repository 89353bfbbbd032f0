/**
 * Composition root of the local stack (`scanctl dev`, `npm start`): Azurite as a child process,
 * the Service Bus, Event Hubs and ARM emulators in this process, the three services as child
 * processes in their own process groups, and the SDK clients that watch the pipeline. Stops in
 * the reverse order: services first (they drain into the emulators), then the emulators, Azurite
 * last.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EventHubProducerClient } from "@azure/event-hubs";
import { BlobCheckpointStore } from "@azure/eventhubs-checkpointstore-blob";
import { ServiceBusClient } from "@azure/service-bus";
import { BlobServiceClient } from "@azure/storage-blob";
import {
  type FaultRule,
  lifelinePath,
  startArmEmulator,
  startAzurite,
  startEventHubsEmulator,
  startQscannerSimulator,
  startRegistryEmulator,
  startServiceBusEmulator,
  startWebhookSink,
} from "@qcs/emulators";
import type { SweepSummary } from "@qcs/ingest/sweep";
import { ENTITY_DEFAULTS, loadServiceConfig, sweepConfigSpec } from "@qcs/shared";
import { createLogger } from "@qcs/shared/runtime";
import { EventHubEventSender } from "../adapters/eventHubs/eventSender.ts";
import { FileReplayInputReader } from "../adapters/files/replayFiles.ts";
import { HttpRecorderApi } from "../adapters/recorder/recorderApi.ts";
import { ServiceBusDeadLetterQueue } from "../adapters/serviceBus/deadLetterQueue.ts";
import { CliError } from "../core/cliError.ts";
import { imageOf } from "../core/deadLetters.ts";
import { parseReplayInput, type ReplayBody, replayTotals } from "../core/replayInput.ts";
import { assertPortsFree, freePort } from "./adapters/net/ports.ts";
import { EventHubProgress } from "./adapters/pipeline/eventHubProgress.ts";
import { ServiceBusPeek } from "./adapters/pipeline/serviceBusPeek.ts";
import { ingestCounts, resultsSince } from "./adapters/pipeline/serviceHttp.ts";
import { PidFiles } from "./adapters/processes/pidFiles.ts";
import { waitUntilReady } from "./adapters/processes/readiness.ts";
import {
  type ExitStatus,
  ProcessSupervisor,
  type RestartPolicy,
  type SupervisedProcess,
} from "./adapters/processes/supervisor.ts";
import { type DevPorts, PORT_SETTINGS } from "./core/portPlan.ts";
import {
  chooseScanner,
  type Env,
  type ScannerChoice,
  type ServiceName,
  serviceEnv,
} from "./core/serviceEnv.ts";
import {
  type DeadLetter,
  type DevCoverage,
  type IngestCounts,
  NOTIFICATIONS_ENTITY,
  type NotificationSent,
  REQUEST_ENTITIES,
  type RecordedResult,
  type ReplayCounts,
} from "./core/summary.ts";

const REPOSITORY = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SERVICES: readonly ServiceName[] = ["recorder", "scanner", "ingest"];

/** A crashed service comes back after 1, 2, 4, 8, 16 s; a sixth crash within 10 minutes stops the stack. */
export const RESTART_POLICY: RestartPolicy = {
  maxRestarts: 5,
  windowMs: 10 * 60_000,
  delayMs: (count) => 1000 * 2 ** (count - 1),
};

export interface StartDevStackOptions {
  host: string;
  ports: DevPorts;
  /** ARM inventory file (resource documents as the ARM REST API returns them). */
  inventory: string;
  /** Fault rules the ARM emulator (and its Resource Graph) applies from the start (`--arm-faults`). */
  armFaults?: readonly FaultRule[];
  /** Where the ARM certificate, scanctl's environment and (with `persist`) Azurite's, Service Bus's and Event Hubs' data go. */
  dataDir: string;
  persist: boolean;
  /** The user's environment; the services get it minus what the stack owns. */
  env: Env;
  /** Guards the recorder's API. */
  recorderApiKey: string;
  logFormat: "pretty" | "json";
  /** Every output line of the child processes, prefixed. */
  writeLine: (line: string) => void;
  paint: (name: string) => string;
  /** The stack's own progress messages. */
  say: (message: string) => void;
  /** A service exited unasked and is started again after `delayMs`. */
  onRestart: (name: string, status: ExitStatus, restart: { count: number; delayMs: number }) => void;
  /** A service exited unasked once more than {@link RESTART_POLICY} allows: the stack cannot go on. */
  onUnexpectedExit: (name: string, status: ExitStatus) => void;
  signal: AbortSignal;
}

export interface DevStack {
  scanner: ScannerChoice;
  /** `webhooks`: the local webhook sink, when NOTIFY_WEBHOOKS does not replace it. */
  urls: { recorder: string; ingest: string; scanner: string; arm: string; webhooks?: string | undefined };
  /** What scanctl needs to reach this stack. */
  scanctlEnv: Record<string, string>;
  processes(): Array<{ name: string; pid: number }>;
  replay(paths: readonly string[]): Promise<ReplayCounts>;
  /** One sweep (the ingest package's) with ingest's settings, in this process; logs as `sweep`. */
  sweep(): Promise<SweepSummary>;
  watch: {
    partitions: EventHubProgress["partitions"];
    pendingRequests: ServiceBusPeek["pendingRequests"];
    pendingResults: ServiceBusPeek["pendingResults"];
    /** Dead letters of messages enqueued since `since` (with `persist`, earlier runs' stay). */
    deadLetters(since: Date): Promise<DeadLetter[]>;
    results(since: Date): Promise<RecordedResult[]>;
    ingestCounts(): Promise<IngestCounts>;
    /** Notifications the local sink accepted; undefined when NOTIFY_WEBHOOKS points elsewhere. */
    notificationsSent(): NotificationSent[] | undefined;
    coverage(): Promise<DevCoverage>;
  };
  stop(): Promise<void>;
}

export function generateApiKey(): string {
  return randomBytes(24).toString("base64url");
}

export async function startDevStack(options: StartDevStackOptions): Promise<DevStack> {
  const { host, ports, say } = options;
  await mkdir(options.dataDir, { recursive: true });
  // A stack killed with SIGKILL could not stop its children: clear what outlived it first.
  const pidFiles = new PidFiles(options.dataDir);
  for (const { name, pid } of await pidFiles.claim()) {
    say(`stopped ${name} (PID ${pid}), left running by an earlier stack on ${options.dataDir}`);
  }
  const closers: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  };
  closers.push(() => pidFiles.release());
  try {
    await assertPortsFree(
      host,
      PORT_SETTINGS.map((setting) => ({
        label: setting.label,
        option: setting.option,
        port: ports[setting.key],
      })),
    );
    const azurite = await startAzurite({
      host,
      blobPort: ports.blob,
      queuePort: ports.queue,
      tablePort: ports.table,
      detached: true,
      ...(options.persist ? { location: join(options.dataDir, "azurite") } : {}),
    });
    closers.push(() => azurite.stop());
    if (azurite.pid !== undefined) await pidFiles.record("azurite", azurite.pid);
    say(
      `azurite ${options.persist ? `(data in ${join(options.dataDir, "azurite")})` : "(in memory)"}: blob ${azurite.blobUrl}, table ${azurite.tableUrl}`,
    );

    const serviceBus = await startServiceBusEmulator({
      host,
      port: ports.servicebus,
      adminPort: ports.servicebusAdmin,
      ...(options.persist ? { dataDir: join(options.dataDir, "servicebus") } : {}),
    });
    closers.push(() => serviceBus.close());
    const eventHubsDir = join(options.dataDir, "eventhubs");
    // Checkpoints are positions in one hub's events: those of a hub that is not kept point nowhere.
    const eventHubsKept = options.persist && existsSync(eventHubsDir);
    const eventHubs = await startEventHubsEmulator({
      host,
      port: ports.eventhubs,
      ...(options.persist ? { dataDir: eventHubsDir } : {}),
    });
    closers.push(() => eventHubs.close());
    const armToken = randomBytes(24).toString("base64url");
    const arm = await startArmEmulator({
      host,
      port: ports.arm,
      inventory: options.inventory,
      token: armToken,
      faults: options.armFaults,
    });
    closers.push(() => arm.close());
    const registry = await startRegistryEmulator({
      host,
      port: ports.registry,
      inventory: options.inventory,
    });
    closers.push(() => registry.close());
    const armCaFile = join(options.dataDir, "arm-ca.pem");
    await writeFile(armCaFile, arm.ca);
    say(
      `servicebus: sb://${host}:${serviceBus.port}${options.persist ? ` (data in ${join(options.dataDir, "servicebus")})` : ""}, eventhubs: sb://${host}:${eventHubs.port}${options.persist ? ` (data in ${eventHubsDir})` : ""}, arm: ${arm.url} (inventory ${options.inventory}; fault rules: ${arm.faultsUrl}), registry: ${registry.url} (move a tag: POST ${registry.url}/_admin/tags {"ref": "<image>"})`,
    );

    const storage = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const checkpointContainer = storage.getContainerClient(ENTITY_DEFAULTS.CHECKPOINT_CONTAINER);
    if (options.persist && !eventHubsKept) await clearContainer(checkpointContainer);
    const producer = new EventHubProducerClient(eventHubs.connectionString, ENTITY_DEFAULTS.EVENTHUB_NAME);
    closers.push(() => producer.close());
    const serviceBusClient = new ServiceBusClient(serviceBus.connectionString);
    closers.push(() => serviceBusClient.close());

    // The local webhook sink, unless the user points notifications at real receivers.
    const sinkSecret = options.env.NOTIFY_WEBHOOK_SECRET || randomBytes(24).toString("base64url");
    const sink = options.env.NOTIFY_WEBHOOKS
      ? undefined
      : await startWebhookSink({ host, port: 0, secret: sinkSecret });
    if (sink) closers.push(() => sink.close());
    say(
      sink
        ? `webhooks: notifications go to the local sink (GET ${sink.url}/ lists them, signatures checked)`
        : "webhooks: notifications go to NOTIFY_WEBHOOKS",
    );

    // One resident simulator for every scan: the scanner starts its small client, not a Node process.
    const simulator = await startQscannerSimulator();
    closers.push(() => simulator.close());
    const scanner = chooseScanner(options.env, simulator.path);
    const scannerTmpDir = await mkdtemp(join(tmpdir(), "qcs-dev-scanner-"));
    closers.push(() => rm(scannerTmpDir, { recursive: true, force: true }));
    say(
      scanner.kind === "simulator"
        ? "scanner uses the qscanner simulator (set QSCANNER_PATH and QUALYS_ACCESS_TOKEN for the real qscanner)"
        : `scanner uses qscanner at ${scanner.path}`,
    );

    const supervisor = new ProcessSupervisor({
      writeLine: options.writeLine,
      paint: options.paint,
      graceMs: 15_000,
      restart: RESTART_POLICY,
      onRestart: (child, status, restart) => options.onRestart(child.name, status, restart),
      onUnexpectedExit: (child, status) => options.onUnexpectedExit(child.name, status),
      onSpawn: (child) => void pidFiles.record(child.name, child.pid).catch(() => {}),
    });
    closers.push(() => supervisor.stopAll());
    const endpoints = {
      serviceBus: serviceBus.connectionString,
      eventHubs: eventHubs.connectionString,
      storage: azurite.connectionString,
      arm: { endpoint: arm.url, token: armToken, caFile: armCaFile },
      registry: registry.url,
      recorderApiKey: options.recorderApiKey,
      notify: sink && { webhooks: `cloudevents=${sink.url}/cloudevents`, secret: sinkSecret },
    };
    const urls: Record<ServiceName, string> = { ingest: "", scanner: "", recorder: "" };
    const started: Array<{ name: ServiceName; child: SupervisedProcess }> = [];
    let ingestEnv: Record<string, string | undefined> = {};
    for (const name of SERVICES) {
      const port = ports[name] === 0 ? await freePort(host) : ports[name];
      urls[name] = `http://${host}:${port}`;
      const env = serviceEnv(options.env, {
        service: name,
        port,
        host,
        endpoints,
        scanner,
        scannerTmpDir,
        logFormat: options.logFormat,
        nodeDir: dirname(process.execPath),
      });
      if (name === "ingest") ingestEnv = env;
      const child = supervisor.start({
        name,
        command: process.execPath,
        // The lifeline ends the service if this process is killed.
        args: ["--import", lifelinePath, join(REPOSITORY, "services", name, "src", "main.ts")],
        // Node's compile cache: a restart skips stripping and compiling what it ran before.
        env: { NODE_COMPILE_CACHE: join(options.dataDir, "compile-cache"), ...env },
        cwd: REPOSITORY,
      });
      started.push({ name, child });
    }
    await Promise.all(
      started.map(async ({ name, child }) => {
        await waitUntilReady(name, urls[name], { exited: child.exited, signal: options.signal });
        say(`${name} ready (${urls[name]}/readyz)`);
      }),
    );

    const progress = new EventHubProgress(
      producer,
      new BlobCheckpointStore(checkpointContainer),
      ENTITY_DEFAULTS.EVENTHUB_CONSUMER_GROUP,
    );
    const peek = new ServiceBusPeek(serviceBusClient, {
      queues: [ENTITY_DEFAULTS.SCAN_REQUESTS_QUEUE, ENTITY_DEFAULTS.SCAN_REQUESTS_SWEEP_QUEUE],
      topic: ENTITY_DEFAULTS.SCAN_COMPLETED_TOPIC,
      subscription: ENTITY_DEFAULTS.RECORDER_SUBSCRIPTION,
      notifications: ENTITY_DEFAULTS.NOTIFICATIONS_QUEUE,
    });
    const recorder = new HttpRecorderApi({ url: urls.recorder, apiKey: options.recorderApiKey });
    const deadLetterQueues = [
      ...REQUEST_ENTITIES.map((entity) => ({
        entity,
        queue: new ServiceBusDeadLetterQueue(serviceBusClient, { queue: entity }),
      })),
      {
        entity: `${ENTITY_DEFAULTS.SCAN_COMPLETED_TOPIC}/${ENTITY_DEFAULTS.RECORDER_SUBSCRIPTION}`,
        queue: new ServiceBusDeadLetterQueue(serviceBusClient, {
          topic: ENTITY_DEFAULTS.SCAN_COMPLETED_TOPIC,
          subscription: ENTITY_DEFAULTS.RECORDER_SUBSCRIPTION,
        }),
      },
      {
        entity: NOTIFICATIONS_ENTITY,
        queue: new ServiceBusDeadLetterQueue(serviceBusClient, {
          queue: ENTITY_DEFAULTS.NOTIFICATIONS_QUEUE,
        }),
      },
    ];
    return {
      scanner,
      urls: { ...urls, arm: arm.url, webhooks: sink?.url },
      scanctlEnv: {
        SERVICEBUS_CONNECTION_STRING: serviceBus.connectionString,
        SERVICEBUS_EMULATOR_ADMIN_PORT: String(serviceBus.adminPort),
        EVENTHUBS_CONNECTION_STRING: eventHubs.connectionString,
        STORAGE_CONNECTION_STRING: azurite.connectionString,
        RECORDER_URL: urls.recorder,
        RECORDER_API_KEY: options.recorderApiKey,
      },
      processes: () => [
        ...(azurite.pid === undefined ? [] : [{ name: "azurite", pid: azurite.pid }]),
        ...supervisor.processes.map((child) => ({ name: child.name, pid: child.pid })),
      ],
      replay: (paths) => replayFiles(paths, new EventHubEventSender(producer)),
      sweep: async () => {
        const { sweepFromConfig } = await import("@qcs/ingest/sweep");
        const { config } = loadServiceConfig(sweepConfigSpec, ingestEnv);
        const prefix = options.paint("sweep".padEnd(8));
        const logger = createLogger({
          name: "sweep",
          level: config.logLevel,
          format: options.logFormat,
          destination: { write: (text: string) => options.writeLine(`${prefix} | ${text.trimEnd()}`) },
        });
        return sweepFromConfig(config, { dryRun: false, logger });
      },
      watch: {
        partitions: () => progress.partitions(),
        pendingRequests: (now) => peek.pendingRequests(now),
        pendingResults: (now) => peek.pendingResults(now),
        deadLetters: async (since) =>
          (
            await Promise.all(
              deadLetterQueues.map(async ({ entity, queue }) =>
                (
                  await queue.peek({ maxMessages: 10_000 })
                ).deadLetters
                  .filter((letter) => letter.enqueuedAt === undefined || letter.enqueuedAt >= since)
                  .map((letter) => ({
                    entity,
                    reason: letter.reason ?? "(none)",
                    description: letter.description,
                    imageRef: imageOf(letter),
                  })),
              ),
            )
          ).flat(),
        results: (since) => resultsSince(recorder, since),
        ingestCounts: () => ingestCounts(urls.ingest),
        notificationsSent: () =>
          sink
            ?.received()
            .filter((item) => item.status < 300 && item.type !== undefined && item.ref !== undefined)
            .map((item) => ({ type: item.type as string, ref: item.ref as string })),
        coverage: async () => {
          const { sloHours, totals } = await recorder.coverage({ limit: 1 });
          return { sloHours, totals };
        },
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Reads and sends event files as `scanctl replay` does; any unusable file stops the run. */
async function replayFiles(paths: readonly string[], sender: EventHubEventSender): Promise<ReplayCounts> {
  const bodies: ReplayBody[] = [];
  let files = 0;
  for await (const input of new FileReplayInputReader(noStdin()).read(paths)) {
    if ("error" in input) throw new CliError("INPUT", `cannot replay ${input.name}: ${input.error}`);
    const parsed = parseReplayInput(input.text);
    if (!parsed.ok) throw new CliError("INPUT", `cannot replay ${input.name}: ${parsed.reason}`);
    files += 1;
    bodies.push(...parsed.bodies);
  }
  const events = await sender.send(bodies);
  const totals = replayTotals(bodies);
  return {
    files,
    events,
    activityLogRecords: totals.activityLogRecords,
    eventGridEvents: totals.eventGridEvents,
    cloudEvents: totals.cloudEvents,
  };
}

async function* noStdin(): AsyncIterable<string> {}

async function clearContainer(container: ReturnType<BlobServiceClient["getContainerClient"]>): Promise<void> {
  if (!(await container.exists())) return;
  for await (const blob of container.listBlobsFlat()) await container.deleteBlob(blob.name);
}
