/** `npm run emulators` as a process: the printed connection string works; SIGTERM stops it cleanly. */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ServiceBusClient } from "@azure/service-bus";
import { afterEach, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../../../src/bin.ts", import.meta.url));
const children: ChildProcess[] = [];

function run(args: string[]) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  const lines: string[] = [];
  const errors: string[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => lines.push(line));
  createInterface({ input: child.stderr }).on("line", (line) => errors.push(line));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const firstLine = new Promise<string>((resolve) => {
    child.stdout.once("data", () => setImmediate(() => resolve(lines[0] ?? "")));
    child.once("exit", () => resolve(lines[0] ?? ""));
  });
  return { child, lines, errors, exited, firstLine };
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

describe("npm run emulators", () => {
  it("prints one servicebus line with a working connection string and exits 0 on SIGTERM", async () => {
    const emulators = run(["--servicebus-port", "0", "--eventhubs-port", "0"]);
    const line = await emulators.firstLine;
    expect(line).toMatch(
      /^servicebus: Endpoint=sb:\/\/127\.0\.0\.1:\d+;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;$/,
    );
    const client = new ServiceBusClient(line.slice("servicebus: ".length));
    const sender = client.createSender("scan-requests");
    await sender.sendMessages({ body: "from the command", messageId: "cli-1" });
    const [message] = await client
      .createReceiver("scan-requests", { receiveMode: "receiveAndDelete" })
      .receiveMessages(1, { maxWaitTimeInMs: 5000 });
    await client.close();
    expect(message?.body).toBe("from the command");
    emulators.child.kill("SIGTERM");
    expect(await emulators.exited).toBe(0);
  });

  it("prints JSON lines with --json", async () => {
    const emulators = run(["--servicebus-port", "0", "--eventhubs-port", "0", "--json"]);
    expect(JSON.parse(await emulators.firstLine)).toMatchObject({
      name: "servicebus",
      endpoint: expect.stringContaining("sb://127.0.0.1:"),
    });
    emulators.child.kill("SIGINT");
    expect(await emulators.exited).toBe(0);
  });

  it("fails at start with the path of a bad configuration field", async () => {
    const file = join(tmpdir(), `sb-config-${process.pid}.json`);
    await writeFile(
      file,
      JSON.stringify({
        UserConfig: {
          Namespaces: [
            { Name: "sbemulatorns", Queues: [{ Name: "q", Properties: { LockDuration: "PT1H" } }] },
          ],
        },
      }),
    );
    const emulators = run(["--servicebus-port", "0", "--eventhubs-port", "0", "--servicebus-config", file]);
    expect(await emulators.exited).toBe(2);
    expect(emulators.errors.join("\n")).toContain(
      "UserConfig.Namespaces[0].Queues[0].Properties.LockDuration: must not exceed PT5M",
    );
    expect(emulators.lines).toEqual([]);
  });

  it("refuses a port outside 0-65535", async () => {
    const emulators = run(["--servicebus-port", "70000"]);
    expect(await emulators.exited).not.toBe(0);
    expect(emulators.errors.join("\n")).toContain("must be a port number from 0 to 65535");
  });
});
