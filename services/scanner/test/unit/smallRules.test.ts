import { describe, expect, it } from "vitest";
import { isCacheHit } from "../../src/core/cache.ts";
import { registryAuthKind } from "../../src/core/registry.ts";
import { targetInfoFor } from "../../src/core/targetInfo.ts";

const HOUR = 3_600_000;
const now = new Date("2025-03-14T12:00:00Z");

describe("scan cache decision", () => {
  const D1 = `sha256:${"1".repeat(64)}`;
  const D2 = `sha256:${"2".repeat(64)}`;
  const cached = { finishedAt: new Date(now.getTime() - 2 * HOUR), digest: D1, scannerVersion: "4.8.0-2" };
  const rule = { cacheMs: 24 * HOUR, scannerVersion: "4.8.0-2" };

  it("skips a digest scanned successfully by the same qscanner version within the cache window", () => {
    expect(isCacheHit({ force: false }, D1, cached, now, rule)).toBe(true);
  });

  it("scans again when the last success is older than the window, absent, forced or the cache is off", () => {
    expect(isCacheHit({ force: false }, D1, cached, now, { ...rule, cacheMs: 1 * HOUR })).toBe(false);
    expect(isCacheHit({ force: false }, D1, undefined, now, rule)).toBe(false);
    expect(isCacheHit({ force: true }, D1, cached, now, rule)).toBe(false);
    expect(isCacheHit({ force: false }, D1, cached, now, { ...rule, cacheMs: 0 })).toBe(false);
  });

  it("keys on content: other content, or content not known, is scanned", () => {
    expect(isCacheHit({ force: false }, D2, cached, now, rule)).toBe(false);
    expect(isCacheHit({ force: false }, undefined, cached, now, rule)).toBe(false);
    expect(isCacheHit({ force: false }, D1, { finishedAt: cached.finishedAt }, now, rule)).toBe(false);
  });

  it("keys on the scanner: another (or an unrecorded) qscanner version rescans, unless any version will do", () => {
    expect(isCacheHit({ force: false }, D1, cached, now, { ...rule, scannerVersion: "4.9.0-1" })).toBe(false);
    const unversioned = { finishedAt: cached.finishedAt, digest: D1 };
    expect(isCacheHit({ force: false }, D1, unversioned, now, rule)).toBe(false);
    const anyVersion = { ...rule, scannerVersion: undefined };
    expect(isCacheHit({ force: false }, D1, { ...cached, scannerVersion: "4.7.0-1" }, now, anyVersion)).toBe(
      true,
    );
  });

  it("counts a success as cached only within the window", () => {
    const success = { finishedAt: new Date("2025-03-14T10:00:00Z"), digest: D1, scannerVersion: "4.8.0-2" };
    expect(isCacheHit({ force: false }, D1, success, new Date("2025-03-15T09:59:59Z"), rule)).toBe(true);
    expect(isCacheHit({ force: false }, D1, success, new Date("2025-03-15T10:00:00Z"), rule)).toBe(false);
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
