/** `npm run emulators` as a process, Event Hubs side: the printed connection string works; bad configuration fails at start. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { EventHubProducerClient } from "@azure/event-hubs";
import { waitFor } from "@qcs/test-support";
import { afterEach, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../../../src/bin.ts", import.meta.url));
const children: ChildProcess[] = [];
const folders: string[] = [];

function run(args: string[]) {
  const child = spawn(process.execPath, [bin, "--servicebus-port", "0", "--eventhubs-port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const lines: string[] = [];
  const errors: string[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => lines.push(line));
  createInterface({ input: child.stderr }).on("line", (line) => errors.push(line));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, lines, errors, exited };
}

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

describe("npm run emulators: Event Hubs", () => {
  it("prints an eventhubs line whose connection string reaches the project's hub, and stops on SIGTERM", async () => {
    const emulators = run([]);
    await waitFor(() => emulators.lines.some((line) => line.startsWith("eventhubs: ")), "the eventhubs line");
    const line = emulators.lines.find((candidate) => candidate.startsWith("eventhubs: ")) ?? "";
    expect(line).toMatch(
      /^eventhubs: Endpoint=sb:\/\/127\.0\.0\.1:\d+;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;$/,
    );
    const producer = new EventHubProducerClient(line.slice("eventhubs: ".length), "activity-log");
    const properties = await producer.getEventHubProperties();
    await producer.close();
    expect(properties.partitionIds).toEqual(["0", "1", "2", "3"]);
    emulators.child.kill("SIGTERM");
    expect(await emulators.exited).toBe(0);
  });

  it("fails at start with the path of a bad field in --eventhubs-config, printing no endpoint", async () => {
    const folder = await mkdtemp(join(tmpdir(), "eh-cli-"));
    folders.push(folder);
    const file = join(folder, "Config.json");
    await writeFile(
      file,
      JSON.stringify({
        UserConfig: {
          NamespaceConfig: [
            { Type: "EventHub", Name: "emulatorNs1", Entities: [{ Name: "h", PartitionCount: "64" }] },
          ],
          LoggingConfig: { Type: "Console" },
        },
      }),
    );
    const emulators = run(["--eventhubs-config", file]);
    expect(await emulators.exited).toBe(2);
    expect(emulators.errors.join("\n")).toContain(
      "UserConfig.NamespaceConfig[0].Entities[0].PartitionCount: must be a whole number from 1 to 32",
    );
    expect(emulators.lines).toEqual([]);
  });

  it("refuses an --eventhubs-port outside 0-65535", async () => {
    const emulators = run(["--eventhubs-port", "65536"]);
    expect(await emulators.exited).not.toBe(0);
    expect(emulators.errors.join("\n")).toContain("must be a port number from 0 to 65535");
  });
});
