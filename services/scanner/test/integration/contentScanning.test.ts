/**
 * Content-true scanning end to end, as main.ts wires the scanner and the recorder: the Service Bus
 * emulator, Azurite, the local registry (REGISTRY_API_BASE_URL) and the qscanner simulator as a real
 * child, run through a wrapper script that keeps the child's environment and command line. Each
 * step is a deployment of one tag (a new correlation ID each time, so the broker lets it through).
 */
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TableClient } from "@azure/data-tables";
import { ServiceBusClient, type ServiceBusSender } from "@azure/service-bus";
import {
  qscannerSimulatorPath,
  type RunningAzurite,
  type RunningRegistryEmulator,
  type RunningServiceBusEmulator,
  startRegistryEmulator,
  startServiceBusEmulator,
} from "@qcs/emulators";
import { startRecorder } from "@qcs/recorder";
import { buildScanRequestedMessage, parseImageRef, scanCacheKey } from "@qcs/shared";
import type { RunningService } from "@qcs/shared/runtime";
import { waitFor } from "@qcs/test-support";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startScanner } from "../../src/main.ts";
import { scanRequest } from "../support/serviceBusHarness.ts";

const REF = "ghcr.io/contoso/shop:1.0";
const TOKEN = "qualys-token-content-test-5d1e";
const RESOURCE = (name: string) =>
  `/subscriptions/ed6a948b-ba01-4eea-9471-c147cad379eb/resourceGroups/rg-shop/providers/Microsoft.ContainerInstance/containerGroups/${name}`;

let azurite: RunningAzurite;
let broker: RunningServiceBusEmulator;
let registry: RunningRegistryEmulator;
let recorder: RunningService;
let scanner: RunningService | undefined;
let client: ServiceBusClient;
let sender: ServiceBusSender;
let history: TableClient;
let metadata: TableClient;
let dir: string;

/** A qscanner that is the simulator reporting `version`, keeping each child's environment and arguments. */
function qscannerReporting(version: string): string {
  const path = join(dir, `qscanner-${version}`);
  writeFileSync(
    path,
    `#!/bin/sh
/bin/cat /proc/$$/environ > "${dir}/environ-$$"
[ "$1" = "--version" ] || printf '%s\\n' "$*" >> "${dir}/scans"
QSCANNER_SIM_VERSION=${version} exec "${process.execPath}" "${qscannerSimulatorPath}" "$@"
`,
  );
  chmodSync(path, 0o755);
  return path;
}

async function restartScanner(version: string, extra: Record<string, string> = {}): Promise<void> {
  await scanner?.shutdown();
  scanner = await startScanner({
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      SERVICEBUS_CONNECTION_STRING: broker.connectionString,
      STORAGE_CONNECTION_STRING: azurite.connectionString,
      QUALYS_POD: "US2",
      QUALYS_ACCESS_TOKEN: TOKEN,
      QSCANNER_PATH: qscannerReporting(version),
      REGISTRY_API_BASE_URL: registry.url,
      // The platform's managed identity, as Container Apps sets it; qscanner gets it in the default mode.
      AZURE_CLIENT_ID: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
      IDENTITY_ENDPOINT: "http://127.0.0.1:9/msi/token",
      IDENTITY_HEADER: "identity-header-value",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "silent",
      SHUTDOWN_GRACE_SECONDS: "2",
      ...extra,
    },
  });
}

const scans = () =>
  existsSync(join(dir, "scans")) ? readFileSync(join(dir, "scans"), "utf8").trim().split("\n") : [];

/** Deploys REF: a ScanRequested of a new deployment (correlation ID) from `resource`; resolves with the recorded result. */
async function deploy(correlationId: string, resource = "cg-shop") {
  const request = scanRequest(REF, {
    sources: [
      {
        kind: "aci",
        resourceId: RESOURCE(resource),
        subscriptionId: "ed6a948b-ba01-4eea-9471-c147cad379eb",
        resourceGroup: "rg-shop",
        resourceName: resource,
        correlationId,
        eventTime: new Date().toISOString(),
      },
    ],
  });
  await sender.sendMessages(buildScanRequestedMessage(request));
  const result = await waitFor(async () => {
    for await (const row of history.listEntities<Record<string, unknown>>({
      queryOptions: { filter: `RequestId eq '${request.requestId}'` },
    })) {
      return row;
    }
    return undefined;
  }, `the recorded result of deployment ${correlationId}`);
  // The recorder writes history before the latest state: wait until the tag's row has it too.
  await waitFor(
    async () =>
      String((await tagRow().catch(() => undefined))?.RecentScanIds).includes(String(result.ScanId)),
    `the tag's row to include deployment ${correlationId}`,
  );
  return result;
}

async function tagRow() {
  const key = scanCacheKey(parseImageRef(REF));
  return await metadata.getEntity<Record<string, unknown>>(key.partitionKey, key.rowKey);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "content-scanning-"));
  [azurite, broker, registry] = await Promise.all([
    sharedAzurite(),
    startServiceBusEmulator(),
    startRegistryEmulator({ images: [REF] }),
  ]);
  recorder = await startRecorder({
    env: {
      SERVICEBUS_CONNECTION_STRING: broker.connectionString,
      STORAGE_CONNECTION_STRING: azurite.connectionString,
      RECORDER_API_KEY: "content-test-key-0123456789-abcdefghij",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "silent",
      SHUTDOWN_GRACE_SECONDS: "2",
    },
  });
  await restartScanner("1.0.0-sim");
  client = new ServiceBusClient(broker.connectionString);
  sender = client.createSender("scan-requests");
  const options = { allowInsecureConnection: true };
  history = TableClient.fromConnectionString(azurite.connectionString, "ScanHistory", options);
  metadata = TableClient.fromConnectionString(azurite.connectionString, "ScanMetadata", options);
}, 60_000);

afterAll(async () => {
  await scanner?.shutdown();
  await recorder?.shutdown();
  await client?.close();
  await registry?.close();
  await broker?.close();
  await azurite?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a tag that moves", () => {
  let first: string;
  let moved: string;

  it("is scanned as the digest it resolves to, recorded with its tag", async () => {
    first = registry.digestOf(REF) ?? "";
    const result = await deploy("deploy-1");
    expect(result).toMatchObject({ Status: "succeeded", Tag: "1.0", Digest: first });
    expect(first).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(scans()).toHaveLength(1);
    expect(scans()[0]).toContain(`image ghcr.io/contoso/shop@${first} `);
  });

  it("gives qscanner the identity and no QSCANNER_REGISTRY_* in the default mode (REGISTRY_AUTH=qscanner)", () => {
    const environments = readdirSync(dir)
      .filter((name) => name.startsWith("environ-"))
      .map((name) => readFileSync(join(dir, name), "utf8").split("\0").filter(Boolean));
    expect(environments.length).toBeGreaterThanOrEqual(2); // --version at start, then the scan
    for (const variables of environments) {
      expect(variables.filter((variable) => variable.startsWith("QSCANNER_REGISTRY_"))).toEqual([]);
      expect(variables).toContain("AZURE_CLIENT_ID=0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0");
      expect(variables).toContain("IDENTITY_ENDPOINT=http://127.0.0.1:9/msi/token");
    }
  });

  it("costs no scan when redeployed unchanged: a cached result, the tag's resources and last-seen time updated", async () => {
    const before = await tagRow();
    const result = await deploy("deploy-2", "cg-shop-canary");
    expect(result).toMatchObject({ Status: "skipped", SkipReason: "cached", Digest: first });
    expect(scans()).toHaveLength(1);
    const row = await tagRow();
    expect(row.Digest).toBe(first);
    expect((row.LastSeenAt as Date).getTime()).toBeGreaterThan((before.LastSeenAt as Date).getTime());
    expect(JSON.parse(String(row.ResourceIds))).toContain(RESOURCE("cg-shop-canary"));
  });

  it("is scanned once more when the tag moves and is redeployed; the old result stays in history", async () => {
    moved = registry.push(REF).digest;
    expect(moved).not.toBe(first);
    const result = await deploy("deploy-3");
    expect(result).toMatchObject({ Status: "succeeded", Digest: moved });
    expect(await deploy("deploy-4")).toMatchObject({ Status: "skipped", Digest: moved });
    expect(scans()).toHaveLength(2);
    expect(scans()[1]).toContain(`image ghcr.io/contoso/shop@${moved} `);
    expect(await tagRow()).toMatchObject({ Digest: moved, Tag: "1.0" });
    const digests: unknown[] = [];
    for await (const row of history.listEntities<Record<string, unknown>>({
      queryOptions: { filter: "Status eq 'succeeded'" },
    })) {
      if (row.Tag === "1.0") digests.push(row.Digest);
    }
    expect(new Set(digests)).toEqual(new Set([first, moved]));
  });

  it("rescans a cached digest under a new qscanner version, unless RESCAN_ON_SCANNER_UPGRADE=false", async () => {
    await restartScanner("2.0.0-sim");
    expect(await deploy("deploy-5")).toMatchObject({
      Status: "succeeded",
      Digest: moved,
      ScannerVersion: "2.0.0-sim",
    });
    expect(scans()).toHaveLength(3);
    await restartScanner("3.0.0-sim", { RESCAN_ON_SCANNER_UPGRADE: "false" });
    expect(await deploy("deploy-6")).toMatchObject({ Status: "skipped", Digest: moved });
    expect(scans()).toHaveLength(3);
  });
});
