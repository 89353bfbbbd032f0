import { loadServiceConfig, SecretRedactor, scannerConfigSpec } from "@qcs/shared";
import { describe, expect, it } from "vitest";

const base = {
  SERVICEBUS_CONNECTION_STRING:
    "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;",
  STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
  QUALYS_POD: "EU2",
  QUALYS_ACCESS_TOKEN: "token-value-123",
};

describe("scanner configuration", () => {
  it("defaults the qscanner invocation and the retry unit as documented", () => {
    const { config } = loadServiceConfig(scannerConfigSpec, base, new SecretRedactor());
    expect(config.qscanner).toEqual({
      path: "qscanner",
      version: undefined,
      sendTargetInfo: false,
      scanTypes: undefined,
      platform: "linux/amd64",
    });
    expect(config.registryAuth).toBe("qscanner");
    expect(config.rescanOnScannerUpgrade).toBe(true);
    expect(config.registryApiBaseUrl).toBeUndefined();
    expect(config.retryBaseDelayMs).toBe(60_000);
    expect(config.host).toBe("0.0.0.0");
    expect(config.concurrency).toBe(2);
  });

  it("reads scan types, target info, registry auth mode and retry unit", () => {
    const { config, effective } = loadServiceConfig(
      scannerConfigSpec,
      {
        ...base,
        QSCANNER_SCAN_TYPES: "pkg, secret",
        QSCANNER_SEND_TARGET_INFO: "true",
        REGISTRY_AUTH: "acr-exchange",
        RESCAN_ON_SCANNER_UPGRADE: "false",
        REGISTRY_API_BASE_URL: "http://127.0.0.1:5999/",
        SCAN_RETRY_DELAY_SECONDS: "5",
      },
      new SecretRedactor(),
    );
    expect(config.qscanner.scanTypes).toEqual(["pkg", "secret"]);
    expect(config.qscanner.sendTargetInfo).toBe(true);
    expect(config.registryAuth).toBe("acr-exchange");
    expect(config.rescanOnScannerUpgrade).toBe(false);
    expect(config.registryApiBaseUrl).toBe("http://127.0.0.1:5999");
    expect(config.retryBaseDelayMs).toBe(5000);
    expect(JSON.stringify(effective)).not.toContain("token-value-123");
  });

  it("allows no private registry by default, and reads the named ones in canonical (lower) case", () => {
    expect(
      loadServiceConfig(scannerConfigSpec, base, new SecretRedactor()).config.allowedPrivateRegistries,
    ).toEqual([]);
    const { config } = loadServiceConfig(
      scannerConfigSpec,
      { ...base, SCANNER_ALLOWED_PRIVATE_REGISTRIES: "Registry.Internal:5000, 10.0.0.5,[::1]:5000" },
      new SecretRedactor(),
    );
    expect(config.allowedPrivateRegistries).toEqual(["registry.internal:5000", "10.0.0.5", "[::1]:5000"]);
  });

  it("rejects an allowed private registry that is not a host[:port]", () => {
    expect(() =>
      loadServiceConfig(
        scannerConfigSpec,
        { ...base, SCANNER_ALLOWED_PRIVATE_REGISTRIES: "10.0.0.5/path" },
        new SecretRedactor(),
      ),
    ).toThrow(/SCANNER_ALLOWED_PRIVATE_REGISTRIES: "10.0.0.5\/path" is not a registry host\[:port\]/);
  });

  it("rejects an unknown registry auth mode", () => {
    expect(() =>
      loadServiceConfig(scannerConfigSpec, { ...base, REGISTRY_AUTH: "none" }, new SecretRedactor()),
    ).toThrow(/REGISTRY_AUTH/);
    expect(() =>
      loadServiceConfig(
        scannerConfigSpec,
        { ...base, REGISTRY_API_BASE_URL: "ftp://x" },
        new SecretRedactor(),
      ),
    ).toThrow(/REGISTRY_API_BASE_URL/);
  });
});
