/** Resource Graph's query endpoint on the ARM emulator, through the official client. */
import { request } from "node:https";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import type { TokenCredential } from "@azure/core-auth";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ArmResource, type RunningArmEmulator, startArmEmulator } from "../../src/index.ts";

const SUB_A = "ed6a948b-ba01-4eea-9471-c147cad379eb";
const SUB_B = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
const SWEEP_QUERY =
  "Resources | where type in~ ('microsoft.containerinstance/containergroups','microsoft.app/containerapps','microsoft.app/jobs') | project id, name, type, subscriptionId, resourceGroup, properties";
const credential: TokenCredential = {
  getToken: async () => ({ token: "any", expiresOnTimestamp: Date.now() + 3_600_000 }),
};

const resource = (subscription: string, group: string, type: string, name: string): ArmResource => ({
  id: `/subscriptions/${subscription}/resourceGroups/${group}/providers/${type}/${name}`,
  name,
  type,
  location: "westeurope",
  properties: { marker: name },
});
const INVENTORY: ArmResource[] = [
  resource(SUB_A, "RG-Shop", "Microsoft.ContainerInstance/containerGroups", "ci-1"),
  resource(SUB_A, "rg-shop", "Microsoft.App/containerApps", "ca-1"),
  resource(SUB_A, "rg-batch", "Microsoft.App/jobs", "job-1"),
  resource(SUB_A, "rg-batch", "Microsoft.ContainerInstance/containerGroups", "ci-2"),
  resource(SUB_B, "rg-other", "Microsoft.App/containerApps", "ca-2"),
  resource(SUB_B, "rg-other", "Microsoft.App/jobs", "job-2"),
  resource(SUB_B, "rg-other", "Microsoft.ContainerInstance/containerGroups", "ci-3"),
];

describe("Resource Graph on the local ARM endpoint, through @azure/arm-resourcegraph", () => {
  let arm: RunningArmEmulator;
  let client: ResourceGraphClient;
  beforeAll(async () => {
    arm = await startArmEmulator({ inventory: INVENTORY, resourceGraphPageSize: 3 });
    client = new ResourceGraphClient(credential, {
      endpoint: arm.url,
      tlsOptions: { ca: arm.ca },
      retryOptions: { maxRetries: 1 },
    });
  });
  afterEach(() => arm.faults.clear());
  afterAll(() => arm?.close());

  /** Every page of a query, following `$skipToken` as a sweep does. */
  async function allPages(subscriptions: string[], top?: number) {
    const pages = [];
    let skipToken: string | undefined;
    do {
      const page = await client.resources({
        subscriptions,
        query: SWEEP_QUERY,
        options: {
          resultFormat: "objectArray",
          ...(top ? { top } : {}),
          ...(skipToken ? { skipToken } : {}),
        },
      });
      pages.push(page);
      skipToken = page.skipToken;
    } while (skipToken);
    return pages;
  }

  it("pages the sweep's query over two subscriptions with $skipToken, rows shaped as Resource Graph's", async () => {
    const pages = await allPages([SUB_A, SUB_B]);
    expect(pages.map((page) => [page.count, page.totalRecords, page.resultTruncated])).toEqual([
      [3, 7, "false"],
      [3, 7, "false"],
      [1, 7, "false"],
    ]);
    const rows = pages.flatMap((page) => page.data as Record<string, unknown>[]);
    expect(rows.map((row) => row.name)).toEqual(["ci-1", "ca-1", "job-1", "ci-2", "ca-2", "job-2", "ci-3"]);
    expect(rows[0]).toEqual({
      id: `/subscriptions/${SUB_A}/resourceGroups/RG-Shop/providers/Microsoft.ContainerInstance/containerGroups/ci-1`,
      name: "ci-1",
      type: "microsoft.containerinstance/containergroups",
      subscriptionId: SUB_A,
      resourceGroup: "rg-shop",
      properties: { marker: "ci-1" },
    });
    expect(pages[0]?.facets).toEqual([]);
  });

  it("answers only the subscriptions asked for, and $top below the page size makes smaller pages", async () => {
    const pages = await allPages([SUB_B.toUpperCase()], 2);
    expect(pages.map((page) => page.count)).toEqual([2, 1]);
    expect(pages.flatMap((page) => (page.data as { name: string }[]).map((row) => row.name))).toEqual([
      "ca-2",
      "job-2",
      "ci-3",
    ]);
  });

  it("filters by type with =~ and says the result is truncated when it cannot page without id", async () => {
    const page = await client.resources({
      subscriptions: [SUB_A],
      query: "Resources | where type =~ 'Microsoft.ContainerInstance/containerGroups' | project name",
    });
    expect(page).toMatchObject({
      totalRecords: 2,
      count: 2,
      resultTruncated: "false",
      data: [{ name: "ci-1" }, { name: "ci-2" }],
    });
    expect(page.skipToken).toBeUndefined();
    const unpageable = await client.resources({ query: "Resources | project name, location" });
    expect(unpageable).toMatchObject({ totalRecords: 7, count: 3, resultTruncated: "true" });
    expect(unpageable.skipToken).toBeUndefined();
  });

  it("refuses what it does not understand with Resource Graph's 400 body", async () => {
    const error = await client
      .resources({ query: "Resources | summarize count() by type" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      statusCode: 400,
      details: {
        error: {
          code: "BadRequest",
          details: [
            {
              code: "InvalidQuery",
              message:
                "Query is invalid: operator 'summarize' is not supported here (only where and project).",
            },
          ],
        },
      },
    });
    await expect(
      client.resources({ query: SWEEP_QUERY, options: { skipToken: "not-a-token" } }),
    ).rejects.toMatchObject({
      statusCode: 400,
      details: { error: { details: [{ code: "InvalidSkipToken" }] } },
    });
  });

  it("throttles with 429 and Resource Graph's quota headers, and the client's retry gets the page", async () => {
    arm.faults.add({
      path: "/providers/Microsoft.ResourceGraph/resources",
      status: 429,
      retryAfterSeconds: 1,
      times: 1,
    });
    const seen = arm.requests.length;
    const page = await client.resources({ subscriptions: [SUB_A], query: SWEEP_QUERY });
    expect(page.totalRecords).toBe(4);
    expect(arm.requests.slice(seen).map((request) => [request.method, request.status])).toEqual([
      ["POST", 429],
      ["POST", 200],
    ]);

    arm.faults.add({
      path: "/providers/Microsoft.ResourceGraph/resources",
      status: 429,
      retryAfterSeconds: 3_725,
    });
    const response = await rawPost("2024-04-01", { query: SWEEP_QUERY });
    expect(response.status).toBe(429);
    expect(response.headers).toMatchObject({
      "retry-after": "3725",
      "x-ms-user-quota-remaining": "0",
      "x-ms-user-quota-resets-after": "01:02:05",
    });
    expect(response.body).toMatchObject({ error: { code: "RateLimiting" } });
  });

  it("answers the resources operation's api-versions only", async () => {
    const response = await rawPost("2019-04-01", { query: SWEEP_QUERY });
    expect(response).toMatchObject({ status: 400, body: { error: { code: "NoRegisteredProviderFound" } } });
  });

  function rawPost(apiVersion: string, body: unknown) {
    const url = `${arm.url}/providers/Microsoft.ResourceGraph/resources?api-version=${apiVersion}`;
    return new Promise<{ status: number; headers: Record<string, unknown>; body: unknown }>(
      (resolve, reject) => {
        const outgoing = request(
          url,
          {
            method: "POST",
            ca: arm.ca,
            headers: { authorization: "Bearer any", "content-type": "application/json" },
          },
          (response) => {
            let text = "";
            response.on("data", (chunk) => {
              text += chunk;
            });
            response.on("end", () =>
              resolve({
                status: response.statusCode ?? 0,
                headers: response.headers,
                body: JSON.parse(text),
              }),
            );
          },
        );
        outgoing.on("error", reject).end(JSON.stringify(body));
      },
    );
  }
});

describe("Resource Graph's quota on the local ARM endpoint", () => {
  it("sends the quota headers with every answer and throttles beyond the quota", async () => {
    const arm = await startArmEmulator({
      inventory: INVENTORY,
      resourceGraphQuota: { requests: 2, windowSeconds: 3_600 },
    });
    try {
      const client = new ResourceGraphClient(credential, {
        endpoint: arm.url,
        tlsOptions: { ca: arm.ca },
        retryOptions: { maxRetries: 0 },
      });
      const remaining: Array<string | undefined> = [];
      const query = () =>
        client.resources(
          { query: SWEEP_QUERY },
          {
            onResponse: (response) => void remaining.push(response.headers.get("x-ms-user-quota-remaining")),
          },
        );
      await query();
      await query();
      const throttled = await query().catch((error: unknown) => error);
      expect(remaining).toEqual(["1", "0", "0"]);
      expect(throttled).toMatchObject({ statusCode: 429, details: { error: { code: "RateLimiting" } } });
      const headers = (throttled as { response: { headers: { get(name: string): string | undefined } } })
        .response.headers;
      expect(Number(headers.get("retry-after"))).toBeGreaterThan(3_590);
      expect(headers.get("x-ms-user-quota-resets-after")).toMatch(/^00:59:\d\d$|^01:00:00$/);
    } finally {
      await arm.close();
    }
  });
});
