/**
 * The broker's management API at the HTTP level (the official administration client reads it in
 * `cli/test/integration/statusAndScans.test.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServiceBusEmulator, startServiceBusEmulator } from "../../../src/servicebus/emulator.ts";

describe("the Service Bus broker's management API", () => {
  let broker: RunningServiceBusEmulator;
  let base: string;

  beforeAll(async () => {
    broker = await startServiceBusEmulator({ adminPort: 0 });
    base = `http://127.0.0.1:${broker.adminPort}`;
  });

  afterAll(async () => {
    await broker?.close();
  });

  it("is not started unless asked for", async () => {
    const plain = await startServiceBusEmulator();
    expect(plain.adminPort).toBeUndefined();
    await plain.close();
  });

  it("answers health like Microsoft's emulator", async () => {
    const response = await fetch(`${base}/health`);
    expect(await response.json()).toEqual({ status: "healthy" });
  });

  it("serves a queue's counts as an ATOM entry", async () => {
    const response = await fetch(`${base}/scan-requests?api-version=2021-05`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/atom+xml");
    const body = await response.text();
    expect(body).toContain("<QueueDescription");
    expect(body).toContain("<d2p1:ActiveMessageCount>0</d2p1:ActiveMessageCount>");
  });

  it("serves subscriptions and topics under their paths", async () => {
    expect(await (await fetch(`${base}/scan-completed/Subscriptions/recorder`)).text()).toContain(
      "<SubscriptionDescription",
    );
    expect(await (await fetch(`${base}/scan-completed`)).text()).toContain("<TopicDescription");
  });

  it("answers 404 for an unknown entity and 405 for changes, in the service's error format", async () => {
    const missing = await fetch(`${base}/no-such-queue`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain(
      "<Detail>The messaging entity 'no-such-queue' could not be found.</Detail>",
    );
    const put = await fetch(`${base}/scan-requests`, { method: "PUT", body: "<entry/>" });
    expect(put.status).toBe(405);
  });
});
