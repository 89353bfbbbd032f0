import { describe, expect, it } from "vitest";
import { isCacheHit } from "../../src/core/cache.ts";
import { registryAuthKind } from "../../src/core/registry.ts";
import { targetInfoFor } from "../../src/core/targetInfo.ts";

const HOUR = 3_600_000;
const now = new Date("2025-03-14T12:00:00Z");

describe("scan cache decision", () => {
  const cached = { finishedAt: new Date(now.getTime() - 2 * HOUR) };

  it("skips an image scanned successfully within the cache window", () => {
    expect(isCacheHit({ force: false }, cached, now, 24 * HOUR)).toBe(true);
  });

  it("scans again when the last success is older than the window, absent, forced or the cache is off", () => {
    expect(isCacheHit({ force: false }, cached, now, 1 * HOUR)).toBe(false);
    expect(isCacheHit({ force: false }, undefined, now, 24 * HOUR)).toBe(false);
    expect(isCacheHit({ force: true }, cached, now, 24 * HOUR)).toBe(false);
    expect(isCacheHit({ force: false }, cached, now, 0)).toBe(false);
  });

  it("counts a success as cached only within the window", () => {
    const success = { finishedAt: new Date("2025-03-14T10:00:00Z") };
    expect(isCacheHit({ force: false }, success, new Date("2025-03-15T09:59:59Z"), 24 * HOUR)).toBe(true);
    expect(isCacheHit({ force: false }, success, new Date("2025-03-15T10:00:00Z"), 24 * HOUR)).toBe(false);
    expect(isCacheHit({ force: false }, undefined, new Date(), 24 * HOUR)).toBe(false);
  });
});

describe("registry authentication kind", () => {
  it("uses ACR tokens for Azure Container Registry login servers in every cloud", () => {
    expect(registryAuthKind("contosoprod.azurecr.io")).toBe("acr");
    expect(registryAuthKind("contoso-abcd1234.azurecr.io")).toBe("acr");
    expect(registryAuthKind("reg.azurecr.cn")).toBe("acr");
    expect(registryAuthKind("reg.azurecr.us:443")).toBe("acr");
  });

  it("pulls anonymously from other registries", () => {
    expect(registryAuthKind("docker.io")).toBe("anonymous");
    expect(registryAuthKind("mcr.microsoft.com")).toBe("anonymous");
    expect(registryAuthKind("azurecr.io.evil.example")).toBe("anonymous");
  });
});

describe("scan target info", () => {
  const aci = {
    kind: "aci" as const,
    resourceId:
      "/subscriptions/s/resourceGroups/rg-a/providers/Microsoft.ContainerInstance/containerGroups/g",
    subscriptionId: "ed6a948b-ba01-4eea-9471-c147cad379eb",
    resourceGroup: "rg-a",
    resourceName: "g",
  };

  it("describes the first resource that runs the image, as the original system's custom tags", () => {
    expect(targetInfoFor([{ kind: "manual" }, aci, { ...aci, kind: "aca", resourceGroup: "rg-b" }])).toEqual([
      ["azure_subscription", "ed6a948b-ba01-4eea-9471-c147cad379eb"],
      ["resource_group", "rg-a"],
      ["container_type", "ACI"],
    ]);
  });

  it("sends nothing for manual requests and leaves out values that could confuse a parser", () => {
    expect(targetInfoFor([{ kind: "manual" }])).toEqual([]);
    expect(targetInfoFor([{ ...aci, resourceGroup: "rg\nx=y" }]).map(([key]) => key)).toEqual([
      "azure_subscription",
      "container_type",
    ]);
  });
});
