import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import { ContainerInstanceManagementClient } from "@azure/arm-containerinstance";
import type { TokenCredential } from "@azure/core-auth";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { projectArmInventoryPath, type RunningArmEmulator, startArmEmulator } from "../../src/index.ts";

const SUBSCRIPTION = "ed6a948b-ba01-4eea-9471-c147cad379eb";
const INVENTORY = projectArmInventoryPath;
const TOKEN = "local-arm-token";
const staticToken = (token: string): TokenCredential => ({
  getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
});
const NO_RETRIES = { maxRetries: 0 };

describe("the local ARM endpoint, through the official SDK clients", () => {
  let arm: RunningArmEmulator;
  let aci: ContainerInstanceManagementClient;
  let aca: ContainerAppsAPIClient;
  beforeAll(async () => {
    arm = await startArmEmulator({ inventory: INVENTORY, token: TOKEN });
    const options = { endpoint: arm.url, tlsOptions: { ca: arm.ca }, retryOptions: NO_RETRIES };
    aci = new ContainerInstanceManagementClient(staticToken(TOKEN), SUBSCRIPTION, options);
    aca = new ContainerAppsAPIClient(staticToken(TOKEN), SUBSCRIPTION, options);
  });
  afterEach(() => arm.faults.clear());
  afterAll(() => arm?.close());

  it("serves a container group with containers and init containers at the SDK's URL and api-version", async () => {
    const group = await aci.containerGroups.get("rg-payments-prod", "ci-invoice-worker");
    expect(group.id).toBe(
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-payments-prod/providers/Microsoft.ContainerInstance/containerGroups/ci-invoice-worker`,
    );
    expect(group.containers.map((c) => [c.name, c.image])).toEqual([
      ["invoice-worker", "contosoprod.azurecr.io/payments/invoice-worker:2.4.1"],
      ["log-shipper", "fluent/fluent-bit:3.1"],
    ]);
    expect(group.initContainers?.map((c) => c.image)).toEqual([
      "contosoprod.azurecr.io/payments/invoice-migrations@sha256:9490be4058e03b7603b81fb5f077816aa0263395d83e7d54c4259f49ae2413f1",
    ]);
    expect(arm.requests.at(-1)).toMatchObject({
      method: "GET",
      path: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-payments-prod/providers/Microsoft.ContainerInstance/containerGroups/ci-invoice-worker`,
      apiVersion: "2023-05-01",
      status: 200,
    });
  });

  it("serves container apps and jobs with their template containers", async () => {
    const app = await aca.containerApps.get("rg-checkout-prod", "ca-checkout-api");
    expect(app.template?.containers?.map((c) => c.name)).toEqual([
      "checkout-api",
      "otel-collector",
      "dotnet-runtime-probe",
    ]);
    expect(app.template?.initContainers?.map((c) => c.image)).toEqual(["mcr.microsoft.com/azure-cli:2.63.0"]);
    const job = await aca.jobs.get("rg-checkout-prod", "caj-nightly-reconcile");
    expect(job.template?.containers?.map((c) => c.image)).toEqual([
      "contosoprod.azurecr.io/checkout/reconcile:2025.03.1",
    ]);
    expect(arm.requests.at(-1)?.apiVersion).toBe("2026-07-01");
  });

  it("matches resource IDs case-insensitively, as ARM does", async () => {
    const group = await aci.containerGroups.get("RG-PAYMENTS-PROD", "ci-invoice-worker");
    expect(group.name).toBe("ci-invoice-worker");
  });

  it("lists by resource group and by subscription", async () => {
    const inGroup = [];
    for await (const group of aci.containerGroups.listByResourceGroup("rg-payments-prod"))
      inGroup.push(group.name);
    const jobs = [];
    for await (const job of aca.jobs.listBySubscription()) jobs.push(job.name);
    const appsElsewhere = [];
    for await (const app of aca.containerApps.listByResourceGroup("rg-payments-prod"))
      appsElsewhere.push(app.name);
    expect({ inGroup, jobs, appsElsewhere }).toEqual({
      inGroup: ["ci-invoice-worker"],
      jobs: ["caj-nightly-reconcile"],
      appsElsewhere: [],
    });
  });

  it("answers 404 with ARM's error body for an unknown resource or resource group", async () => {
    const missing = await aci.containerGroups
      .get("rg-payments-prod", "ci-nope")
      .catch((error: unknown) => error);
    expect(missing).toMatchObject({ statusCode: 404, code: "ResourceNotFound" });
    expect((missing as Error).message).toContain(
      "The Resource 'Microsoft.ContainerInstance/containerGroups/ci-nope' under resource group 'rg-payments-prod' was not found.",
    );
    const noGroup = await aca.jobs.get("rg-gone", "job").catch((error: unknown) => error);
    expect(noGroup).toMatchObject({ statusCode: 404, details: { error: { code: "ResourceGroupNotFound" } } });
  });

  it("forgets a removed resource and serves an added one", async () => {
    const id = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-payments-prod/providers/Microsoft.ContainerInstance/containerGroups/ci-temp`;
    arm.put({
      id,
      name: "ci-temp",
      type: "Microsoft.ContainerInstance/containerGroups",
      properties: { containers: [], osType: "Linux" },
    });
    expect((await aci.containerGroups.get("rg-payments-prod", "ci-temp")).name).toBe("ci-temp");
    expect(arm.remove(id.toUpperCase())).toBe(true);
    await expect(aci.containerGroups.get("rg-payments-prod", "ci-temp")).rejects.toMatchObject({
      statusCode: 404,
    });
  });

  it("refuses a request without the bearer token it was started with", async () => {
    const stranger = new ContainerInstanceManagementClient(staticToken("someone-else"), SUBSCRIPTION, {
      endpoint: arm.url,
      tlsOptions: { ca: arm.ca },
      retryOptions: NO_RETRIES,
    });
    await expect(stranger.containerGroups.get("rg-payments-prod", "ci-invoice-worker")).rejects.toMatchObject(
      {
        statusCode: 401,
        code: "InvalidAuthenticationToken",
      },
    );
  });

  it("rejects api-versions it does not serve, naming the supported ones", async () => {
    const old = new ContainerInstanceManagementClient(staticToken(TOKEN), SUBSCRIPTION, {
      endpoint: arm.url,
      tlsOptions: { ca: arm.ca },
      apiVersion: "2017-08-01-preview",
      retryOptions: NO_RETRIES,
    });
    const error = await old.containerGroups
      .get("rg-payments-prod", "ci-invoice-worker")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ statusCode: 400, code: "NoRegisteredProviderFound" });
    expect((error as Error).message).toContain("2023-05-01");
  });

  it("injects throttling with Retry-After and server errors for a number of requests", async () => {
    const id = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-checkout-prod/providers/Microsoft.App/jobs/caj-nightly-reconcile`;
    arm.faults.add({ resourceId: id, status: 429, retryAfterSeconds: 7, times: 1 });
    arm.faults.add({ resourceId: id, status: 503, times: 1 });
    const throttled = await aca.jobs
      .get("rg-checkout-prod", "caj-nightly-reconcile")
      .catch((e: unknown) => e);
    expect(throttled).toMatchObject({ statusCode: 429, response: { headers: expect.anything() } });
    expect(
      (throttled as { response: { headers: { get(name: string): string } } }).response.headers.get(
        "retry-after",
      ),
    ).toBe("7");
    await expect(aca.jobs.get("rg-checkout-prod", "caj-nightly-reconcile")).rejects.toMatchObject({
      statusCode: 503,
    });
    expect((await aca.jobs.get("rg-checkout-prod", "caj-nightly-reconcile")).name).toBe(
      "caj-nightly-reconcile",
    );
    expect(arm.requests.slice(-3).map((r) => r.status)).toEqual([429, 503, 200]);
  });

  it("holds a request until the faults are cleared, then answers with the fault's status", async () => {
    arm.faults.add({ status: 500, delayMs: 600_000, times: 1 });
    const seen = arm.requests.length;
    const held = aci.containerGroups.get("rg-payments-prod", "ci-invoice-worker").catch((e: unknown) => e);
    while (arm.requests.length === seen) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(arm.requests.at(-1)?.status).toBeUndefined();
    arm.faults.clear();
    expect(await held).toMatchObject({ statusCode: 500, code: "InternalServerError" });
  });
});

describe("starting the local ARM endpoint", () => {
  it("reports what is wrong with an inventory", async () => {
    await expect(startArmEmulator({ inventory: [{ id: "/nope" }] })).rejects.toThrow(
      'resource 0: "/nope" is not a resource ID of a provider resource',
    );
    await expect(
      startArmEmulator({
        inventory: [
          {
            id: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa`,
          },
        ],
      }),
    ).rejects.toThrow("type microsoft.storage/storageaccounts is not served");
    await expect(startArmEmulator({ inventory: "/no/such/inventory.json" })).rejects.toThrow(
      "cannot read inventory /no/such/inventory.json",
    );
  });

  it("reads an inventory file in the shape of an ARM list response", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qcs-arm-"));
    const file = join(dir, "inventory.json");
    const job = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.App/jobs/j1`;
    await writeFile(
      file,
      JSON.stringify({ value: [{ id: job, name: "j1", properties: { template: { containers: [] } } }] }),
    );
    const listed = await startArmEmulator({ inventory: file });
    try {
      const client = new ContainerAppsAPIClient(staticToken("t"), SUBSCRIPTION, {
        endpoint: listed.url,
        tlsOptions: { ca: listed.ca },
      });
      expect((await client.jobs.get("rg", "j1")).id).toBe(job);
      await writeFile(file, "{ not json");
      await expect(startArmEmulator({ inventory: file })).rejects.toThrow(`cannot read inventory ${file}`);
      await writeFile(file, JSON.stringify({ items: [] }));
      await expect(startArmEmulator({ inventory: file })).rejects.toThrow(
        'expected a JSON array or { "value": [...] }',
      );
    } finally {
      await listed.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("accepts any bearer token when started without one, but not none", async () => {
    const open = await startArmEmulator({ inventory: [] });
    try {
      const client = new ContainerInstanceManagementClient(staticToken("anything"), SUBSCRIPTION, {
        endpoint: open.url,
        tlsOptions: { ca: open.ca },
      });
      const names = [];
      for await (const group of client.containerGroups.list()) names.push(group.name);
      expect(names).toEqual([]);
      const anonymous = await rawGet(
        `${open.url}/subscriptions/${SUBSCRIPTION}/providers/Microsoft.App/jobs?api-version=2025-07-01`,
        open.ca,
      );
      expect(anonymous).toEqual({
        status: 401,
        body: {
          error: {
            code: "AuthenticationFailed",
            message: "Authentication failed. The 'Authorization' header is missing.",
          },
        },
      });
    } finally {
      await open.close();
    }
  });
});

function rawGet(url: string, ca: string): Promise<{ status: number | undefined; body: unknown }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (response) => {
      let text = "";
      response.on("data", (chunk) => {
        text += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode, body: JSON.parse(text) }));
    })
      .on("error", reject)
      .end();
  });
}
