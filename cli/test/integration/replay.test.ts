import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventHubConsumerClient, earliestEventPosition, type Subscription } from "@azure/event-hubs";
import { type RunningEventHubsEmulator, startEventHubsEmulator } from "@qcs/emulators";
import { waitFor } from "@qcs/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanctl } from "../support/runCli.ts";

const fixtures = new URL("../fixtures/events/", import.meta.url).pathname;
const fixture = (name: string) => JSON.parse(readFileSync(join(fixtures, name), "utf8")) as unknown;

/** Collects every event of the hub, from the start, in a consumer group of its own. */
class HubReader {
  readonly bodies: unknown[] = [];
  readonly #client: EventHubConsumerClient;
  readonly #subscription: Subscription;
  constructor(connectionString: string) {
    this.#client = new EventHubConsumerClient("ingest", connectionString, "activity-log");
    this.#subscription = this.#client.subscribe(
      {
        processEvents: async (events) => {
          for (const event of events) this.bodies.push(event.body);
        },
        processError: async () => {},
      },
      { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1 },
    );
  }
  async close() {
    await this.#subscription.close();
    await this.#client.close();
  }
}

describe("scanctl replay against the Event Hubs emulator", () => {
  let hub: RunningEventHubsEmulator;
  let reader: HubReader;
  let folder: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    hub = await startEventHubsEmulator();
    env = { EVENTHUBS_CONNECTION_STRING: hub.connectionString };
    folder = mkdtempSync(join(tmpdir(), "scanctl-replay-"));
    reader = new HubReader(hub.connectionString);
  });

  afterAll(async () => {
    await reader?.close();
    await hub?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it("sends Activity Log bodies, Event Grid events and CloudEvents as Azure would, and counts them", async () => {
    const run = await scanctl(["replay", fixtures, "--json"], env);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const gridEvents = fixture("resource-write-success.json") as unknown[];
    const activityLog = [fixture("aca-write.json"), fixture("aci-write.json")] as Array<{
      records: unknown[];
    }>;
    const summary = run.json<{
      sent: number;
      activityLogRecords: number;
      eventGridEvents: number;
      cloudEvents: number;
    }>();
    expect(summary).toMatchObject({
      sent: 2 + gridEvents.length + 1,
      activityLogRecords: activityLog.reduce((sum, body) => sum + body.records.length, 0),
      eventGridEvents: gridEvents.length,
      cloudEvents: 1,
    });

    const expected = [...activityLog, fixture("resource-write-success.cloudevents.json"), ...gridEvents];
    const received = await waitFor(() => reader.bodies, "replayed events", {
      until: (bodies) => bodies.length >= expected.length,
    });
    const key = (body: unknown) => JSON.stringify(body);
    expect(received.map(key).sort()).toEqual(expected.map(key).sort());
  });

  it("reads standard input for -", async () => {
    const before = reader.bodies.length;
    const cloudEvent = readFileSync(join(fixtures, "resource-write-success.cloudevents.json"), "utf8");
    const run = await scanctl(["replay", "-"], env, { stdin: cloudEvent });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("sent 1 event(s) to activity-log");
    await waitFor(() => reader.bodies.length, "the stdin event", { until: (count) => count === before + 1 });
    expect(reader.bodies.at(-1)).toEqual(JSON.parse(cloudEvent));
  });

  it("skips invalid files by name, sends the others, and exits 1", async () => {
    const before = reader.bodies.length;
    const broken = join(folder, "broken.json");
    const other = join(folder, "other.json");
    writeFileSync(broken, '{"records": [');
    writeFileSync(other, '{"hello": "world"}');
    const good = join(fixtures, "aci-write.json");
    const run = await scanctl(["replay", broken, good, other, join(folder, "missing.json")], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`skipped ${broken}: is not valid JSON`);
    expect(run.stderr).toContain(`skipped ${other}: the document is neither an Activity Log body`);
    expect(run.stderr).toContain("missing.json: no such file or folder");
    expect(run.stderr).toContain("scanctl: 3 of 4 input(s) skipped");
    expect(run.stdout).toContain("sent 1 event(s) to activity-log from 1 file(s)");
    await waitFor(() => reader.bodies.length, "the one good file", {
      until: (count) => count === before + 1,
    });
  });

  it("splits an Activity Log body larger than an event may be", async () => {
    const before = reader.bodies.length;
    const [record] = (fixture("aci-write.json") as { records: Array<Record<string, unknown>> }).records;
    const records = Array.from({ length: 400 }, (_, index) => ({
      ...record,
      padding: "x".repeat(4000),
      index,
    }));
    const big = join(folder, "big.json");
    writeFileSync(big, JSON.stringify({ records }));
    const run = await scanctl(["replay", big, "--json"], env);
    expect(run.code).toBe(0);
    const sent = run.json<{ sent: number; activityLogRecords: number }>();
    expect(sent.activityLogRecords).toBe(400);
    expect(sent.sent).toBeGreaterThan(1);
    const received = await waitFor(
      () => reader.bodies.slice(before) as Array<{ records: Array<{ index: number }> }>,
      "the halves",
      { until: (bodies) => bodies.length === sent.sent },
    );
    const indexes = received.flatMap((body) => body.records.map((item) => item.index)).sort((a, b) => a - b);
    expect(indexes).toEqual(records.map((item) => item.index));
  });

  it("checks files without sending on --dry-run", async () => {
    const run = await scanctl(["replay", fixtures, "--dry-run"], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^would send \d+ event\(s\) from 4 file\(s\)/);
  });
});
