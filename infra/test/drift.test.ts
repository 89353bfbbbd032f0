// One test that fails when the names and settings the services read (shared/src/config: ENTITY_DEFAULTS
// and each service's variables) drift from what infra/ deploys, what docker-compose.yml passes and what
// the emulator Config.json files define. Every mismatch is listed, not only the first.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  configVariables,
  ENTITY_DEFAULTS,
  ingestConfigSpec,
  loadServiceConfig,
  recorderConfigSpec,
  SecretRedactor,
  scannerConfigSpec,
} from "@qcs/shared";
import { describe, expect, it } from "vitest";
import { locateBicep, pinnedBicepVersion } from "./support/bicep.ts";
import { type ComposeService, interpolate, readCompose } from "./support/compose.ts";
import { repoRoot } from "./support/paths.ts";
import { deploymentSnapshot, type PredictedResource } from "./support/snapshot.ts";

const SPECS = { ingest: ingestConfigSpec, scanner: scannerConfigSpec, recorder: recorderConfigSpec } as const;
type Service = keyof typeof SPECS;
const SERVICES = Object.keys(SPECS) as Service[];
const E = ENTITY_DEFAULTS;

const EMULATOR_MOUNTS = {
  servicebus: ["emulators/config/servicebus/Config.json", "/ServiceBus_Emulator/ConfigFiles/Config.json"],
  eventhubs: ["emulators/config/eventhubs/Config.json", "/Eventhubs_Emulator/ConfigFiles/Config.json"],
} as const;

/** ISO-8601 durations as Service Bus writes them (P1D, PT24H, PT1M, P7D) in seconds, for comparison. */
function seconds(duration: unknown): number | undefined {
  if (typeof duration !== "string") return undefined;
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  if (!match) return undefined;
  const [, d = "0", h = "0", m = "0", s = "0"] = match;
  return ((Number(d) * 24 + Number(h)) * 60 + Number(m)) * 60 + Number(s);
}

/** A Service Bus entity's settings, in the emulator's PascalCase, durations in seconds. */
function settings(properties: Record<string, unknown>): Record<string, unknown> {
  const normalised: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (value === "" || value === undefined) continue;
    const name = key.charAt(0).toUpperCase() + key.slice(1);
    normalised[name] = seconds(value) ?? value;
  }
  return normalised;
}

function envOf(app: PredictedResource): Record<string, string> {
  const container = app.properties.template.containers[0];
  return Object.fromEntries(
    container.env.map((entry: { name: string; value?: string; secretRef?: string }) => [
      entry.name,
      entry.secretRef === undefined ? (entry.value ?? "") : `(Key Vault secret ${entry.secretRef})`,
    ]),
  );
}

/** What the user exports before `docker compose up`, as README.md tells them (here: the override's). */
const USER_ENV = { ACCEPT_EULA: "Y", QUALYS_POD: "US2", QUALYS_ACCESS_TOKEN: "user-token" };

function composeEnv(service: ComposeService | undefined, override?: ComposeService): Record<string, string> {
  const merged = { ...service?.environment, ...override?.environment };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(merged)) {
    const resolved = value === null ? undefined : interpolate(String(value), USER_ENV);
    if (resolved !== undefined) env[name] = resolved;
  }
  return env;
}

/** Loads a service's configuration the way the service does; returns the problems instead of throwing. */
function load(service: Service, env: Record<string, string>, where: string, problems: string[]) {
  try {
    // A redactor of its own: the placeholders are not secrets of this test worker.
    const spec = SPECS[service] as Parameters<typeof configVariables>[0];
    return loadServiceConfig(spec, env, new SecretRedactor()).config as Record<string, unknown>;
  } catch (error) {
    problems.push(`${where}: ${service} would not start: ${(error as Error).message}`);
    return undefined;
  }
}

const bicep = await locateBicep();

describe.skipIf(!bicep.available)(
  `Drift between the services, infra/, docker-compose.yml and the emulator configs${bicep.available ? "" : ` (skipped: ${bicep.reason})`}`,
  () => {
    it("finds the services' entity names, variables and Service Bus settings everywhere they are defined", async () => {
      if (!bicep.available) return;
      const problems: string[] = [];
      const expectEqual = (where: string, actual: unknown, expected: unknown) => {
        if (JSON.stringify(actual) !== JSON.stringify(expected)) {
          problems.push(`${where}: ${JSON.stringify(actual)} instead of ${JSON.stringify(expected)}`);
        }
      };

      // infra/: what `bicep snapshot` says the deployment creates.
      const snapshot = await deploymentSnapshot(bicep.path, await pinnedBicepVersion());
      const named = (type: string) =>
        snapshot.predictedResources
          .filter((r) => r.type === type)
          .map((r) => r.name.split("/").slice(1).join("/"));
      const resource = (type: string) => snapshot.predictedResources.find((r) => r.type === type);
      expectEqual("infra queues", named("Microsoft.ServiceBus/namespaces/queues").sort(), [
        E.NOTIFICATIONS_QUEUE,
        E.SCAN_REQUESTS_QUEUE,
        E.SCAN_REQUESTS_SWEEP_QUEUE,
      ]);
      expectEqual("infra topics", named("Microsoft.ServiceBus/namespaces/topics"), [E.SCAN_COMPLETED_TOPIC]);
      expectEqual("infra subscriptions", named("Microsoft.ServiceBus/namespaces/topics/subscriptions"), [
        `${E.SCAN_COMPLETED_TOPIC}/${E.RECORDER_SUBSCRIPTION}`,
      ]);
      expectEqual("infra event hubs", named("Microsoft.EventHub/namespaces/eventhubs"), [E.EVENTHUB_NAME]);
      expectEqual("infra consumer groups", named("Microsoft.EventHub/namespaces/eventhubs/consumergroups"), [
        `${E.EVENTHUB_NAME}/${E.EVENTHUB_CONSUMER_GROUP}`,
      ]);
      expectEqual(
        "infra blob containers",
        named("Microsoft.Storage/storageAccounts/blobServices/containers"),
        [`default/${E.CHECKPOINT_CONTAINER}`],
      );
      expectEqual("infra tables", named("Microsoft.Storage/storageAccounts/tableServices/tables").sort(), [
        `default/${E.SCAN_HISTORY_TABLE}`,
        `default/${E.SCAN_METADATA_TABLE}`,
        `default/${E.WORKLOADS_TABLE}`,
      ]);
      const activityLog = snapshot.predictedResources.find(
        (r) => r.type === "Microsoft.Insights/diagnosticSettings" && r.properties.eventHubName,
      );
      expectEqual(
        "infra Activity Log destination hub",
        activityLog?.properties.eventHubName,
        E.EVENTHUB_NAME,
      );
      const eventGrid = resource("Microsoft.EventGrid/systemTopics/eventSubscriptions");
      expectEqual(
        "infra Event Grid destination hub",
        eventGrid?.properties.deliveryWithResourceIdentity.destination.properties.resourceId
          .split("/")
          .at(-1),
        E.EVENTHUB_NAME,
      );

      const apps = Object.fromEntries(
        SERVICES.map((service) => [
          service,
          snapshot.predictedResources.find(
            (r) => r.type === "Microsoft.App/containerApps" && r.name.endsWith(`-${service}`),
          ),
        ]),
      );
      for (const service of SERVICES) {
        const app = apps[service];
        if (!app) {
          problems.push(`infra: no container app for ${service}`);
          continue;
        }
        const env = envOf(app);
        const where = `infra ${service} app`;
        const read = new Set(configVariables(SPECS[service]));
        for (const name of Object.keys(env)) {
          // Telemetry reads the standard OpenTelemetry and Application Insights variables itself.
          if (!read.has(name) && !/^(OTEL_|APPLICATIONINSIGHTS_)/.test(name))
            problems.push(`${where}: sets ${name}, which ${service} never reads`);
        }
        for (const [name, value] of Object.entries(E)) {
          if (name in env) expectEqual(`${where} ${name}`, env[name], value);
        }
        const config = load(service, env, where, problems);
        for (const connection of ["serviceBus", "eventHubs", "storage"]) {
          const kind = (config?.[connection] as { kind?: string } | undefined)?.kind;
          if (kind) expectEqual(`${where} ${connection} authentication`, kind, "identity");
        }
        if (!env.AZURE_CLIENT_ID)
          problems.push(`${where}: no AZURE_CLIENT_ID, so it cannot pick its identity`);
        const port = Number(env.PORT);
        for (const probe of app.properties.template.containers[0].probes) {
          expectEqual(`${where} ${probe.type} probe port`, probe.httpGet.port, port);
        }
        if (app.properties.configuration.ingress) {
          expectEqual(`${where} ingress port`, app.properties.configuration.ingress.targetPort, port);
        }
      }
      const rule = (service: Service) =>
        apps[service]?.properties.template.scale.rules.find((r: { custom?: unknown }) => r.custom)?.custom;
      expectEqual(
        "infra recorder KEDA rule on the notifications queue",
        apps.recorder?.properties.template.scale.rules.some(
          (r: { custom?: { metadata?: { queueName?: string } } }) =>
            r.custom?.metadata?.queueName === E.NOTIFICATIONS_QUEUE,
        ),
        true,
      );
      expectEqual(
        "infra ingest KEDA rule",
        rule("ingest")?.metadata && {
          eventHubName: rule("ingest").metadata.eventHubName,
          consumerGroup: rule("ingest").metadata.consumerGroup,
          blobContainer: rule("ingest").metadata.blobContainer,
        },
        {
          eventHubName: E.EVENTHUB_NAME,
          consumerGroup: E.EVENTHUB_CONSUMER_GROUP,
          blobContainer: E.CHECKPOINT_CONTAINER,
        },
      );
      expectEqual(
        "infra scanner KEDA rule queues (deployment, sweep)",
        apps.scanner?.properties.template.scale.rules.map(
          (r: { custom?: { metadata: { queueName?: string } } }) => r.custom?.metadata.queueName,
        ),
        [E.SCAN_REQUESTS_QUEUE, E.SCAN_REQUESTS_SWEEP_QUEUE],
      );
      expectEqual(
        "infra scanner KEDA messageCount (one replica per SCANNER_CONCURRENCY requests)",
        rule("scanner")?.metadata.messageCount,
        apps.scanner && envOf(apps.scanner).SCANNER_CONCURRENCY,
      );
      expectEqual(
        "infra recorder KEDA rule",
        rule("recorder") && {
          topicName: rule("recorder").metadata.topicName,
          subscriptionName: rule("recorder").metadata.subscriptionName,
        },
        { topicName: E.SCAN_COMPLETED_TOPIC, subscriptionName: E.RECORDER_SUBSCRIPTION },
      );

      // docker-compose.yml (and the real-scanner override): the services start with what it passes.
      const compose = await readCompose("docker-compose.yml");
      const qualys = await readCompose("docker-compose.qualys.yml");
      const variants: Array<[string, Service, Record<string, string>]> = [
        ...SERVICES.map((s): [string, Service, Record<string, string>] => [
          `compose ${s}`,
          s,
          composeEnv(compose.services[s]),
        ]),
        [
          "compose scanner with docker-compose.qualys.yml",
          "scanner",
          composeEnv(compose.services.scanner, qualys.services.scanner),
        ],
      ];
      for (const [where, service, env] of variants) {
        const read = new Set(configVariables(SPECS[service]));
        for (const name of Object.keys(env)) {
          if (!read.has(name)) problems.push(`${where}: sets ${name}, which ${service} never reads`);
        }
        for (const [name, value] of Object.entries(E)) {
          if (name in env) expectEqual(`${where} ${name}`, env[name], value);
        }
        // The override's token arrives as a secret file at run time; stand in for it here.
        const runtime = env.QUALYS_ACCESS_TOKEN_FILE
          ? { ...env, QUALYS_ACCESS_TOKEN_FILE: "", QUALYS_ACCESS_TOKEN: "from-secret-file" }
          : env;
        const config = load(service, runtime, where, problems);
        for (const connection of ["serviceBus", "eventHubs", "storage"]) {
          const kind = (config?.[connection] as { kind?: string } | undefined)?.kind;
          if (kind) expectEqual(`${where} ${connection} authentication`, kind, "connectionString");
        }
      }

      // The emulator Config.json files: mounted by compose, and defining the same entities and settings.
      for (const [emulator, [file, target]] of Object.entries(EMULATOR_MOUNTS)) {
        if (!compose.services[emulator]?.volumes?.includes(`./${file}:${target}:ro`)) {
          problems.push(`compose ${emulator}: does not mount ./${file} at ${target}`);
        }
        if (!existsSync(join(repoRoot, file))) problems.push(`${file}: missing`);
      }
      const sbConfig = existsSync(join(repoRoot, EMULATOR_MOUNTS.servicebus[0]))
        ? JSON.parse(await readFile(join(repoRoot, EMULATOR_MOUNTS.servicebus[0]), "utf8"))
        : undefined;
      const ehConfig = existsSync(join(repoRoot, EMULATOR_MOUNTS.eventhubs[0]))
        ? JSON.parse(await readFile(join(repoRoot, EMULATOR_MOUNTS.eventhubs[0]), "utf8"))
        : undefined;
      const namespace = sbConfig?.UserConfig.Namespaces[0];
      const hub = ehConfig?.UserConfig.NamespaceConfig[0]?.Entities.find(
        (e: { Name: string }) => e.Name === E.EVENTHUB_NAME,
      );
      expectEqual(
        "Event Hubs emulator consumer groups",
        hub?.ConsumerGroups.map((g: { Name: string }) => g.Name),
        [E.EVENTHUB_CONSUMER_GROUP],
      );
      const queue = namespace?.Queues.find((q: { Name: string }) => q.Name === E.SCAN_REQUESTS_QUEUE);
      const notifications = namespace?.Queues.find((q: { Name: string }) => q.Name === E.NOTIFICATIONS_QUEUE);
      const sweepQueue = namespace?.Queues.find(
        (q: { Name: string }) => q.Name === E.SCAN_REQUESTS_SWEEP_QUEUE,
      );
      const topic = namespace?.Topics.find((t: { Name: string }) => t.Name === E.SCAN_COMPLETED_TOPIC);
      const subscription = topic?.Subscriptions.find(
        (s: { Name: string }) => s.Name === E.RECORDER_SUBSCRIPTION,
      );
      const azure = (type: string, name: string) =>
        settings(
          snapshot.predictedResources.find(
            (r) => r.type === type && r.name.split("/").slice(1).join("/") === name,
          )?.properties ?? {},
        );
      const pairs: Array<[string, { Properties?: Record<string, unknown> } | undefined, string]> = [
        [E.SCAN_REQUESTS_QUEUE, queue, "Microsoft.ServiceBus/namespaces/queues"],
        [E.SCAN_REQUESTS_SWEEP_QUEUE, sweepQueue, "Microsoft.ServiceBus/namespaces/queues"],
        [E.SCAN_COMPLETED_TOPIC, topic, "Microsoft.ServiceBus/namespaces/topics"],
        [
          `${E.SCAN_COMPLETED_TOPIC}/${E.RECORDER_SUBSCRIPTION}`,
          subscription,
          "Microsoft.ServiceBus/namespaces/topics/subscriptions",
        ],
      ];
      const deployedNotifications = snapshot.predictedResources.find(
        (r) =>
          r.type === "Microsoft.ServiceBus/namespaces/queues" && r.name.endsWith(`/${E.NOTIFICATIONS_QUEUE}`),
      );
      if (!notifications) problems.push(`Service Bus emulator config: no ${E.NOTIFICATIONS_QUEUE}`);
      else {
        const deployed = settings(deployedNotifications?.properties ?? {});
        for (const [setting, value] of Object.entries(settings(notifications.Properties ?? {}))) {
          expectEqual(`${E.NOTIFICATIONS_QUEUE} ${setting} (emulator vs infra)`, deployed[setting], value);
        }
      }
      for (const [name, emulated, type] of pairs) {
        if (!emulated) {
          problems.push(`Service Bus emulator config: no ${name}`);
          continue;
        }
        const deployed = azure(type, name);
        for (const [setting, value] of Object.entries(settings(emulated.Properties ?? {}))) {
          expectEqual(`${name} ${setting} (emulator vs infra)`, deployed[setting], value);
        }
      }
      // The queue's duplicate-detection window is the scanner's cache: a repeat inside it is dropped.
      const scanner = apps.scanner && load("scanner", envOf(apps.scanner), "infra scanner app", []);
      expectEqual(
        "scan-requests duplicate-detection window vs SCAN_CACHE_HOURS",
        azure("Microsoft.ServiceBus/namespaces/queues", E.SCAN_REQUESTS_QUEUE)
          .DuplicateDetectionHistoryTimeWindow,
        Number(scanner?.cacheMs) / 1000,
      );

      expect(problems).toEqual([]);
    });
  },
);
