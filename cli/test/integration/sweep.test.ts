// `scanctl sweep` runs the ingest package's sweep with the environment it is given: against the
// ARM emulator's Resource Graph, Azurite and the Service Bus emulator.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type RunningArmEmulator,
  type RunningAzurite,
  type RunningServiceBusEmulator,
  startArmEmulator,
  startServiceBusEmulator,
} from "@qcs/emulators";
import { sharedAzurite } from "@qcs/test-support/azurite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanctl } from "../support/runCli.ts";

const SUB = "ed6a948b-ba01-4eea-9471-c147cad379eb";
const app = (name: string, image: string) => ({
  id: `/subscriptions/${SUB}/resourceGroups/rg-shop/providers/Microsoft.App/containerApps/${name}`,
  name,
  type: "Microsoft.App/containerApps",
  location: "westeurope",
  properties: { template: { containers: [{ name: "main", image }] } },
});

describe("scanctl sweep", () => {
  let arm: RunningArmEmulator;
  let azurite: RunningAzurite;
  let serviceBus: RunningServiceBusEmulator;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    [arm, azurite, serviceBus] = await Promise.all([
      startArmEmulator({
        inventory: [app("api", "registry.example/shop/api:1.0"), app("web", "registry.example/shop/web:2.0")],
        token: "local-arm-token",
      }),
      sharedAzurite(),
      startServiceBusEmulator(),
    ]);
    dir = await mkdtemp(join(tmpdir(), "qcs-scanctl-sweep-"));
    await writeFile(join(dir, "ca.pem"), arm.ca);
    env = {
      ARM_ENDPOINT: arm.url,
      ARM_TOKEN: "local-arm-token",
      ARM_CA_FILE: join(dir, "ca.pem"),
      STORAGE_CONNECTION_STRING: azurite.connectionString,
      SERVICEBUS_CONNECTION_STRING: serviceBus.connectionString,
    };
  });
  afterAll(async () => {
    await Promise.allSettled([arm?.close(), azurite?.stop(), serviceBus?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("plans with --dry-run, then sweeps: two workloads, two requests", async () => {
    const dry = await scanctl(["sweep", "--dry-run", "--json"], env);
    expect(dry.json()).toMatchObject({ dryRun: true, workloads: 2, inserted: 2, requestsSent: 0 });
    const run = await scanctl(["sweep"], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/workloads\s+2 in 1 pages/);
    expect(run.stdout).toMatch(/\+2 new/);
    expect(run.stdout).toMatch(/requests sent 2/);
  });

  it("says which setting is wrong, exit 2", async () => {
    const run = await scanctl(["sweep"], { ...env, SWEEP_SUBSCRIPTIONS: "nope" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/SWEEP_SUBSCRIPTIONS/);
  });
});
