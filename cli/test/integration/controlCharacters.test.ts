/**
 * A hostile dead letter (ESC and C1 sequences in its subject, reason, description, properties and
 * body) made with the official SDK on the Service Bus emulator, then read with scanctl: human
 * output shows the controls as visible escapes, `--json` keeps the values exactly.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ServiceBusClient } from "@azure/service-bus";
import { type RunningServiceBusEmulator, startServiceBusEmulator } from "@qcs/emulators";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanctl } from "../support/runCli.ts";
import { brokerConfig, receiveExactly } from "../support/serviceBus.ts";

const QUEUE = "scan-requests";
/** Any control character but tab and newline: none may reach a terminal. */
const CONTROL = /[^\P{Cc}\t\n]/u;
const ESC = "\u001b";

const SUBJECT = `ScanRequested${ESC}[2J${ESC}[H${ESC}]0;owned\u0007`;
const REASON = `InvalidMessage${ESC}[5m`;
const DESCRIPTION = `bad ${ESC}[31mred${ESC}[0m and \u009b2J and a bell\u0007`;
const IMAGE_REF = `docker.io/library/nginx:1${ESC}[8m`;
const REGISTRY = `docker.io${ESC}[1A${ESC}[2K`;
const BODY = { note: `a C1 CSI \u009b31m in a JSON body`, nested: { esc: `${ESC}]52;c;cGF5bG9hZA==\u0007` } };

describe("scanctl and control characters in messages", () => {
  let broker: RunningServiceBusEmulator;
  let env: Record<string, string>;
  let sequenceNumber: string;

  beforeAll(async () => {
    broker = await startServiceBusEmulator({
      config: brokerConfig({ lockDuration: "PT5S", maxDeliveryCount: 2 }),
    });
    env = { SERVICEBUS_CONNECTION_STRING: broker.connectionString };
    const client = new ServiceBusClient(broker.connectionString);
    const sender = client.createSender(QUEUE);
    await sender.sendMessages({
      body: BODY,
      contentType: "application/json",
      subject: SUBJECT,
      applicationProperties: { imageRef: IMAGE_REF, registry: REGISTRY },
    });
    await sender.close();
    const receiver = client.createReceiver(QUEUE, { maxAutoLockRenewalDurationInMs: 0 });
    const [message] = await receiveExactly(receiver, 1);
    if (!message) throw new Error("the hostile message was not received");
    await receiver.deadLetterMessage(message, {
      deadLetterReason: REASON,
      deadLetterErrorDescription: DESCRIPTION,
    });
    sequenceNumber = String(message.sequenceNumber);
    await receiver.close();
    await client.close();
  });

  afterAll(async () => {
    await broker?.close();
  });

  it("dlq show prints every field with its control characters escaped", async () => {
    const result = await scanctl(["dlq", "show", sequenceNumber], env);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(CONTROL);
    expect(result.stdout).toContain("ScanRequested\\u001b[2J\\u001b[H\\u001b]0;owned\\u0007");
    expect(result.stdout).toContain("bad \\u001b[31mred\\u001b[0m and \\u009b2J");
    expect(result.stdout).toContain("docker.io\\u001b[1A\\u001b[2K");
    expect(result.stdout).toContain("\\u009b31m in a JSON body");
  });

  it("dlq list prints its tables with the control characters escaped", async () => {
    const result = await scanctl(["dlq", "list"], env);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(CONTROL);
    expect(result.stdout).toContain("InvalidMessage\\u001b[5m");
  });

  it("errors quoting a hostile argument escape it", async () => {
    const result = await scanctl(["dlq", `sh${ESC}[2Jow`], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).not.toMatch(CONTROL);
    expect(result.stderr).toContain("sh\\u001b[2Jow");
  });

  it("--json keeps the values exactly", async () => {
    const result = await scanctl(["dlq", "show", sequenceNumber, "--json"], env);
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({
      subject: SUBJECT,
      reason: REASON,
      description: DESCRIPTION,
      image: IMAGE_REF,
      applicationProperties: { imageRef: IMAGE_REF, registry: REGISTRY },
      body: BODY,
    });
  });

  it("the scanctl executable prints no control character either", async () => {
    const bin = join(import.meta.dirname, "..", "..", "src", "bin.ts");
    const { stdout } = await promisify(execFile)(process.execPath, [bin, "dlq", "show", sequenceNumber], {
      env: { PATH: process.env.PATH, ...env },
    });
    expect(stdout).toContain("\\u001b]0;owned\\u0007");
    expect(stdout).not.toMatch(CONTROL);
  });
});
