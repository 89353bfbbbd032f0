import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type EventHubsConfigError,
  type EventHubsEmulatorConfig,
  loadEventHubsConfig,
  parseEventHubsConfig,
  projectEventHubsConfigPath,
} from "../../../src/eventhubs/config.ts";

const valid = (): EventHubsEmulatorConfig => ({
  UserConfig: {
    NamespaceConfig: [
      {
        Type: "EventHub",
        Name: "emulatorNs1",
        Entities: [{ Name: "eh1", PartitionCount: "2", ConsumerGroups: [{ Name: "cg1" }] }],
      },
    ],
    LoggingConfig: { Type: "File" },
  },
});

function issuesOf(raw: unknown): Array<{ path: string; message: string }> {
  try {
    parseEventHubsConfig(raw);
  } catch (error) {
    return [...(error as EventHubsConfigError).issues];
  }
  throw new Error("expected the configuration to be rejected");
}

describe("Event Hubs emulator Config.json", () => {
  it("ships the project's hub activity-log with 4 partitions and consumer groups $Default and ingest", async () => {
    const topology = await loadEventHubsConfig(projectEventHubsConfigPath);
    expect(topology).toEqual({
      namespace: "emulatorNs1",
      hubs: [
        { name: "activity-log", partitionIds: ["0", "1", "2", "3"], consumerGroups: ["$Default", "ingest"] },
      ],
    });
  });

  it("accepts Microsoft's sample file, partition counts as strings or numbers, and no ConsumerGroups", () => {
    const config = valid();
    config.UserConfig.NamespaceConfig[0]?.Entities.push({ Name: "eh2", PartitionCount: 3 });
    expect(parseEventHubsConfig(config).hubs).toEqual([
      { name: "eh1", partitionIds: ["0", "1"], consumerGroups: ["$Default", "cg1"] },
      { name: "eh2", partitionIds: ["0", "1", "2"], consumerGroups: ["$Default"] },
    ]);
  });

  it("names the path of every bad field", () => {
    const config = valid() as unknown as { UserConfig: { NamespaceConfig: Array<Record<string, unknown>> } };
    const namespace = config.UserConfig.NamespaceConfig[0] as Record<string, unknown>;
    namespace.Name = "myNamespace";
    namespace.Entities = [
      { Name: "eh1", PartitionCount: "33", ConsumerGroups: [{ Name: "$default" }, { Name: "-bad" }] },
      { Name: "", PartitionCount: "two" },
    ];
    expect(issuesOf(config)).toEqual([
      { path: "UserConfig.NamespaceConfig[0].Name", message: 'Invalid input: expected "emulatorNs1"' },
      {
        path: "UserConfig.NamespaceConfig[0].Entities[0].PartitionCount",
        message: 'must be a whole number from 1 to 32 (got "33")',
      },
      {
        path: "UserConfig.NamespaceConfig[0].Entities[0].ConsumerGroups[0].Name",
        message: "$Default always exists and may not be declared",
      },
      {
        path: "UserConfig.NamespaceConfig[0].Entities[0].ConsumerGroups[1].Name",
        message: `must be 1-50 letters, digits, '.', '-' or '_', starting and ending alphanumeric (got "-bad")`,
      },
      {
        path: "UserConfig.NamespaceConfig[0].Entities[1].Name",
        message: "must be 1-256 letters, digits, '.', '-' or '_', starting and ending alphanumeric",
      },
      {
        path: "UserConfig.NamespaceConfig[0].Entities[1].PartitionCount",
        message: 'must be a whole number from 1 to 32 (got "two")',
      },
    ]);
  });

  it("rejects hubs and consumer groups whose names differ only in case", () => {
    const config = valid();
    config.UserConfig.NamespaceConfig[0]?.Entities.push({
      Name: "EH1",
      PartitionCount: 1,
      ConsumerGroups: [{ Name: "a" }, { Name: "A" }],
    });
    expect(issuesOf(config)).toEqual([
      {
        path: "UserConfig.NamespaceConfig[0].Entities[1].ConsumerGroups[1].Name",
        message: 'duplicates ConsumerGroups[0] ("A"; names are case-insensitive)',
      },
      {
        path: "UserConfig.NamespaceConfig[0].Entities[1].Name",
        message: 'duplicates Entities[0] ("EH1"; names are case-insensitive)',
      },
    ]);
  });

  it("requires exactly one namespace, at most 10 hubs and the logging section, as Microsoft's emulator does", () => {
    const two = valid();
    two.UserConfig.NamespaceConfig.push(structuredClone(two.UserConfig.NamespaceConfig[0]) as never);
    expect(issuesOf(two).map((issue) => issue.path)).toEqual(["UserConfig.NamespaceConfig"]);

    const many = valid();
    const namespace = many.UserConfig.NamespaceConfig[0];
    if (namespace)
      namespace.Entities = Array.from({ length: 11 }, (_, i) => ({ Name: `h${i}`, PartitionCount: 1 }));
    expect(issuesOf(many).map((issue) => issue.path)).toEqual(["UserConfig.NamespaceConfig[0].Entities"]);

    const noLogging = valid() as unknown as { UserConfig: Record<string, unknown> };
    delete noLogging.UserConfig.LoggingConfig;
    expect(issuesOf(noLogging).map((issue) => issue.path)).toEqual(["UserConfig.LoggingConfig"]);
  });

  describe("from a file", () => {
    let folder: string | undefined;
    afterAll(() => (folder ? rm(folder, { recursive: true, force: true }) : undefined));

    it("reports a file that is not JSON, or missing, with its path", async () => {
      folder = await mkdtemp(join(tmpdir(), "eh-config-"));
      const broken = join(folder, "Config.json");
      await writeFile(broken, "{ not json");
      await expect(loadEventHubsConfig(broken)).rejects.toThrow(/Config\.json.*\n.*\(file\): not JSON/);
      await expect(loadEventHubsConfig(join(folder, "missing.json"))).rejects.toThrow(
        /missing\.json.*\n.*ENOENT/,
      );
    });
  });
});
