/**
 * ingest as a whole, wired by main.ts: events on the Event Hubs emulator in, ScanRequested messages
 * on the Service Bus emulator's queue out, checkpoints in Azurite, lookups against the local ARM.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { TableClient } from "@azure/data-tables";
import { startServiceBusEmulator } from "@qcs/emulators";
import { parseWorkloadEntity, scanRequestMessageId, workloadImagesOf, workloadKey } from "@qcs/shared";
import type { RunningService } from "@qcs/shared/runtime";
import { waitFor } from "@qcs/test-support";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startIngest } from "../../src/main.ts";
import { sendEvents } from "../support/eventHubs.ts";
import { comparable, expectedSampleRequests } from "../support/expected.ts";
import { activityLogRecord, SUBSCRIPTION, samples } from "../support/fixtures.ts";
import { type Stack, startStack } from "../support/stack.ts";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const TUNING = {
  loadBalancing: { updateIntervalInMs: 500, partitionOwnershipExpirationIntervalInMs: 5000 },
  replayDelay: { initialMs: 100, maxMs: 500 },
  maxWaitTimeInSeconds: 1,
  armRetryDelayMs: 20,
};

async function metric(ingest: RunningService, name: string): Promise<number> {
  const text = await (await fetch(`${ingest.url}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

describe("ingest end to end", () => {
  const running: RunningService[] = [];
  afterEach(async () => {
    for (const ingest of running.splice(0)) await ingest.shutdown();
  });

  const start = async () => {
    const ingest = await startIngest({ env: stack.env(), tuning: TUNING });
    running.push(ingest);
    return ingest;
  };

  it("turns events into exactly the expected requests, collapses repeats, and resumes from its checkpoint", async () => {
    const first = await start();
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);

    await sendEvents(stack.eventHubs.connectionString, "0", [
      samples.activityLogAci(),
      samples.activityLogAca(),
    ]);
    const received = await stack.receive(8);
    expect(comparable(received.map((r) => r.body))).toEqual(expectedSampleRequests("activity-log"));
    for (const { message, body } of received) {
      expect(message.messageId).toBe(scanRequestMessageId(body.image));
      expect(message.subject).toBe("ScanRequested");
      expect(message.applicationProperties).toMatchObject({
        registry: body.image.registry,
        imageRef: body.image.ref,
      });
    }

    // The same deployments again, from Event Grid.
    await sendEvents(stack.eventHubs.connectionString, "1", [samples.eventGrid(), samples.cloudEvent()]);
    await waitFor(async () => (await metric(first, "ingest_records_read")) === 10, "the repeats to be read");
    await waitFor(
      async () => (await metric(first, "ingest_duplicates_collapsed")) >= 8,
      "the repeats to be collapsed",
    );
    expect(await stack.receive(1, 1500)).toEqual([]);
    expect(await metric(first, 'ingest_records_skipped_total{reason="start"')).toBe(2);

    await first.shutdown();
    running.splice(0);

    // While ingest is down: the job is redeployed with a new image.
    const job = samples.armJob() as { properties: { template: { containers: { image: string }[] } } };
    const [container] = job.properties.template.containers;
    if (container) container.image = "contosoprod.azurecr.io/checkout/reconcile:2025.03.2";
    stack.arm.put(job as never);
    await sendEvents(stack.eventHubs.connectionString, "2", [
      {
        records: [
          activityLogRecord({
            resourceId: String(samples.armJob().id),
            operationName: "Microsoft.App/jobs/write",
            correlationId: "0e0e0e0e-0000-4000-8000-000000000002",
          }),
        ],
      },
    ]);

    const second = await start();
    // The new image; the unchanged init container's request is dropped by the queue's duplicate detection.
    const afterRestart = await stack.receive(1);
    expect(afterRestart.map((r) => r.body.image.ref)).toEqual([
      "contosoprod.azurecr.io/checkout/reconcile:2025.03.2",
    ]);
    await waitFor(
      async () => (await metric(second, "ingest_records_read")) === 1,
      "the new event to be read",
    );
    expect(await stack.receive(1, 1500)).toEqual([]);
    // Only the event sent while it was down: everything before was checkpointed.
    expect(await metric(second, "ingest_records_read")).toBe(1);
    expect(await metric(second, "ingest_requests_sent")).toBe(2);
  });

  it("keeps the Workloads table in Azurite current: a write upserts the row, a ResourceDeleteSuccess removes it", async () => {
    const ingest = await start();
    const table = TableClient.fromConnectionString(stack.azurite.connectionString, "Workloads", {
      allowInsecureConnection: true,
    });
    const groupId = String(samples.armContainerGroup().id);
    const row = async () => {
      const { partitionKey, rowKey } = workloadKey(groupId, SUBSCRIPTION);
      const entity = await table.getEntity(partitionKey, rowKey).catch(() => undefined);
      return entity && parseWorkloadEntity(entity);
    };

    await sendEvents(stack.eventHubs.connectionString, "0", [samples.activityLogAci()]);
    const written = await waitFor(row, "the container group's row");
    expect(written).toMatchObject({ ResourceId: groupId, Kind: "aci", SeenBy: "event" });
    expect(workloadImagesOf(written).some((image) => image.init)).toBe(true);
    await stack.receive(10, 1000);

    await sendEvents(stack.eventHubs.connectionString, "0", [
      [
        {
          id: "9f0c7a2e-0000-4000-8000-000000000016",
          eventType: "Microsoft.Resources.ResourceDeleteSuccess",
          subject: groupId.replace("/resourceGroups/", "/resourcegroups/"),
          eventTime: "2025-03-14T10:00:00Z",
          dataVersion: "2",
          data: { operationName: "Microsoft.ContainerInstance/containerGroups/delete", resourceUri: groupId },
        },
      ],
    ]);
    await waitFor(async () => (await row()) === undefined, "the row to be removed");
    expect(await metric(ingest, 'ingest_workloads_written_total{op="delete"')).toBe(1);
    expect(await metric(ingest, "ingest_deletes_selected")).toBe(1);
  });
});

describe("ingest readiness", () => {
  it("reports not ready, naming Service Bus, when the broker goes away", async () => {
    const broker = await startServiceBusEmulator();
    const ingest = await startIngest({
      env: stack.env({
        SERVICEBUS_CONNECTION_STRING: broker.connectionString,
        CHECKPOINT_CONTAINER: "readiness",
      }),
      tuning: TUNING,
    });
    try {
      await waitFor(async () => (await fetch(`${ingest.url}/readyz`)).status === 200, "ingest to be ready");
      await broker.close();
      const body = await waitFor(async () => {
        const response = await fetch(`${ingest.url}/readyz`);
        return response.status === 503 ? response.json() : undefined;
      }, "readiness to fail");
      expect(body).toMatchObject({
        status: "not ready",
        dependencies: { eventhubs: "ok", servicebus: "failing", storage: "ok" },
      });
    } finally {
      await ingest.shutdown();
    }
  });
});

describe("ingest as a process", () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  });

  function spawnIngest(env: Record<string, string>) {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const lines: Record<string, unknown>[] = [];
    /** Everything it wrote, stdout and stderr, as written. */
    const output: string[] = [];
    createInterface({ input: child.stdout }).on("line", (line) => {
      output.push(line);
      try {
        lines.push(JSON.parse(line));
      } catch {
        lines.push({ msg: line });
      }
    });
    createInterface({ input: child.stderr }).on("line", (line) => output.push(line));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const url = waitFor(
      () => lines.find((line) => line.msg === "ingest ready")?.url as string,
      "ingest ready",
    );
    return { child, lines, output, exited, url };
  }

  /** The secret parts of ingest's environment: connection string keys and the ARM token. */
  function secretsOf(env: Record<string, string>): string[] {
    const keys = Object.values(env).flatMap((value) =>
      [...value.matchAll(/(?:SharedAccessKey|AccountKey)=([^;]+)/g)].map((match) => match[1] as string),
    );
    return [...keys, env.ARM_TOKEN as string];
  }

  /** A container group in the local ARM with one container running `image`. */
  function containerGroup(name: string, image: string): string {
    const id = String(samples.armContainerGroup().id).replace("ci-invoice-worker", name);
    stack.arm.put({
      id,
      name,
      type: "Microsoft.ContainerInstance/containerGroups",
      properties: { osType: "Linux", containers: [{ name: "probe", properties: { image } }] },
    } as never);
    return id;
  }

  /** An Event Grid "resource write succeeded" event for `id`. */
  function writeEvent(id: string, correlationId: string): Record<string, unknown> {
    const [event] = samples.eventGrid();
    const data = (event as { data: Record<string, unknown> }).data;
    return { ...event, subject: id, data: { ...data, resourceUri: id, correlationId } };
  }

  it("prints its usage with --help", async () => {
    const help = spawn(process.execPath, [MAIN, "--help"], { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    help.stdout.on("data", (chunk) => {
      text += chunk;
    });
    expect(await new Promise((resolve) => help.once("exit", resolve))).toBe(0);
    expect(text).toContain("EXCLUDE_IMAGES");
    expect(text).toContain("SIGTERM");
  });

  it("gives up an event whose lookup keeps being refused, logs and counts it, goes on with later events, and does not redo it after a restart", async () => {
    const forbiddenId = containerGroup("ci-forbidden", "contosoprod.azurecr.io/payments/forbidden-probe:1");
    const laterId = containerGroup("ci-after-forbidden", "contosoprod.azurecr.io/payments/after-probe:1");
    stack.arm.faults.add({ resourceId: forbiddenId, status: 403 });
    const correlationId = "9fb1dde0-0000-4000-8000-000000000001";
    await sendEvents(stack.eventHubs.connectionString, "2", [
      [writeEvent(forbiddenId, correlationId)],
      [writeEvent(laterId, "9fb1dde0-0000-4000-8000-000000000002")],
    ]);

    const env = stack.env({ INGEST_RETRY_GIVE_UP_SECONDS: "2", LOG_LEVEL: "info" });
    const first = spawnIngest(env);
    const url = await first.url;
    const [later] = await stack.receive(1, 30_000);
    expect(later?.body.image.ref).toBe("contosoprod.azurecr.io/payments/after-probe:1");
    const givenUp = await waitFor(
      () => first.lines.find((line) => String(line.msg).startsWith("event given up")),
      "the given-up event to be logged",
    );
    expect(givenUp).toMatchObject({
      level: 50,
      partitionId: "2",
      kinds: ["unauthorized"],
      correlationIds: [correlationId],
    });
    expect((givenUp.resourceIds as string[]).map((id) => id.toLowerCase())).toEqual([
      forbiddenId.toLowerCase(),
    ]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^ingest_events_given_up_total\{reason="unauthorized"[^}]*\} 1$/m);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const refusedLookups = stack.arm.requests.filter((r) => r.path === forbiddenId).length;
    expect(refusedLookups).toBeGreaterThanOrEqual(2);

    // Restarted, it reads on from past the given-up event: only what came since.
    const nextId = containerGroup("ci-after-restart", "contosoprod.azurecr.io/payments/next-probe:1");
    await sendEvents(stack.eventHubs.connectionString, "2", [
      [writeEvent(nextId, "9fb1dde0-0000-4000-8000-000000000003")],
    ]);
    const second = await startIngest({
      env: stack.env({ INGEST_RETRY_GIVE_UP_SECONDS: "2" }),
      tuning: TUNING,
    });
    try {
      const received = await stack.receive(1, 30_000);
      expect(received.map((r) => r.body.image.ref)).toEqual(["contosoprod.azurecr.io/payments/next-probe:1"]);
      expect(stack.arm.requests.filter((r) => r.path === forbiddenId)).toHaveLength(refusedLookups);
    } finally {
      await second.shutdown();
      stack.arm.faults.clear();
    }
  });

  it("exits 0 on SIGTERM having checkpointed what it sent and not an unfinished batch, which the next start completes", async () => {
    const sentId = containerGroup("ci-sigterm-sent", "contosoprod.azurecr.io/payments/sent-probe:1");
    const id = containerGroup("ci-sigterm", "contosoprod.azurecr.io/payments/sigterm-probe:1");
    stack.arm.faults.add({ resourceId: id, delayMs: 600_000 });
    const write = writeEvent(id, "5157e125-0000-4000-8000-000000000001");

    const env = stack.env({ LOG_LEVEL: "info", SHUTDOWN_GRACE_SECONDS: "2" });
    const quiet = { ...env, LOG_LEVEL: "warn" };
    const first = spawnIngest(env);
    const url = await first.url;
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({
      status: "ready",
      phase: "running",
      dependencies: { eventhubs: "ok", servicebus: "ok", storage: "ok", "workloads-table": "ok" },
    });
    // A batch it finishes (sent, then checkpointed), then one whose lookup hangs.
    await sendEvents(stack.eventHubs.connectionString, "3", [
      [writeEvent(sentId, "5157e125-0000-4000-8000-000000000002")],
    ]);
    const [sent] = await stack.receive(1);
    expect(sent?.body.image.ref).toBe("contosoprod.azurecr.io/payments/sent-probe:1");
    await sendEvents(stack.eventHubs.connectionString, "3", [[write]]);
    await waitFor(() => stack.arm.requests.some((r) => r.path === id), "the lookup to be held");

    first.child.kill("SIGTERM");
    await waitFor(
      () => first.lines.some((line) => line.msg === "shutting down: intake stopped, draining"),
      "ingest to log that it is shutting down",
    );
    const readiness = await fetch(`${url}/readyz`).then(
      (response) => response.status,
      () => "server closed",
    );
    expect([503, "server closed"]).toContain(readiness);
    expect(await first.exited).toBe(0);
    for (const secret of secretsOf(env)) expect(first.output.join("\n")).not.toContain(secret);
    expect(first.lines.map((line) => line.msg)).toEqual(
      expect.arrayContaining([
        "shutting down: intake stopped, draining",
        "grace period over: closing with work abandoned",
        "stopped",
      ]),
    );
    expect(await stack.receive(1, 1000)).toEqual([]);

    stack.arm.faults.clear();
    const second = await startIngest({ env: quiet, tuning: TUNING });
    try {
      const [request] = await stack.receive(1);
      expect(request?.body.image.ref).toBe("contosoprod.azurecr.io/payments/sigterm-probe:1");
      // Resumed past the batch it had sent: that resource was looked up once, by the first process.
      expect(stack.arm.requests.filter((r) => r.path === sentId)).toHaveLength(1);
    } finally {
      await second.shutdown();
    }
  });
});
