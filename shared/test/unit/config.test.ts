import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  configVariables,
  ingestConfigSpec,
  loadServiceConfig,
  recorderConfigSpec,
  SecretRedactor,
  scannerConfigSpec,
} from "../../src/index.ts";

const SB =
  "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;";
const STORAGE = "UseDevelopmentStorage=true";
const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJxdWFseXMifQ.c2lnbmF0dXJl";

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("service configuration", () => {
  it("applies the documented defaults", () => {
    const { config } = loadServiceConfig(
      scannerConfigSpec,
      {
        SERVICEBUS_CONNECTION_STRING: SB,
        STORAGE_CONNECTION_STRING: STORAGE,
        QUALYS_POD: "US2",
        QUALYS_ACCESS_TOKEN: TOKEN,
      },
      new SecretRedactor(),
    );
    expect(config.cacheMs).toBe(24 * 3_600_000);
    expect(config.scanTimeoutMs).toBe(1_800_000);
    expect(config.scanRequestsQueue).toBe("scan-requests");
    expect(config.scanCompletedTopic).toBe("scan-completed");
    expect(config.qscanner.path).toBe("qscanner");
    expect(config.port).toBe(8080);
    expect(config.serviceBus).toEqual({ kind: "connectionString", connectionString: SB });
    expect(Object.isFrozen(config.qualys)).toBe(true);
  });

  it("lists every missing or invalid variable in one error, not only the first", () => {
    const error = configError(() =>
      loadServiceConfig(
        scannerConfigSpec,
        { QUALYS_POD: "MARS1", SCAN_CACHE_HOURS: "soon", PORT: "70000" },
        new SecretRedactor(),
      ),
    );
    expect(error.code).toBe("CONFIG_INVALID");
    const variables = error.issues.map((issue) => issue.variable);
    expect(variables).toEqual(
      expect.arrayContaining(["QUALYS_POD", "QUALYS_ACCESS_TOKEN", "SCAN_CACHE_HOURS", "PORT"]),
    );
    expect(error.message).toContain("SCAN_CACHE_HOURS: expected a whole number");
    expect(error.message).toContain("QUALYS_POD: expected one of US1");
  });

  it("refuses a recorder API key shorter than 32 characters, saying how to make one", () => {
    const env = { SERVICEBUS_CONNECTION_STRING: SB, STORAGE_CONNECTION_STRING: STORAGE };
    const error = configError(() =>
      loadServiceConfig(recorderConfigSpec, { ...env, RECORDER_API_KEY: "k" }, new SecretRedactor()),
    );
    expect(error.issues).toEqual([
      {
        variable: "RECORDER_API_KEY",
        message: "must be at least 32 characters; generate one with: openssl rand -base64 32",
      },
    ]);
    const key = "x".repeat(32);
    expect(loadServiceConfig(recorderConfigSpec, { ...env, RECORDER_API_KEY: key }).config.apiKey).toBe(key);
  });

  it("reports connection problems after the variables parse", () => {
    const error = configError(() =>
      loadServiceConfig(
        recorderConfigSpec,
        {
          SERVICEBUS_CONNECTION_STRING: "nonsense",
          STORAGE_CONNECTION_STRING: STORAGE,
          STORAGE_ACCOUNT_NAME: "acct",
        },
        new SecretRedactor(),
      ),
    );
    expect(error.issues).toEqual([
      {
        variable: "SERVICEBUS_CONNECTION_STRING",
        message: "expected Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...",
      },
      {
        variable: "STORAGE_CONNECTION_STRING",
        message: "set either STORAGE_CONNECTION_STRING or STORAGE_ACCOUNT_NAME, not both",
      },
    ]);
  });

  it("uses managed identity when a namespace or account name is given", () => {
    const { config } = loadServiceConfig(
      ingestConfigSpec,
      {
        EVENTHUBS_NAMESPACE: "qcs-eh",
        SERVICEBUS_NAMESPACE: "qcs-sb.servicebus.windows.net",
        STORAGE_ACCOUNT_NAME: "qcsstore",
      },
      new SecretRedactor(),
    );
    expect(config.eventHubs).toEqual({
      kind: "identity",
      fullyQualifiedNamespace: "qcs-eh.servicebus.windows.net",
    });
    expect(config.serviceBus).toEqual({
      kind: "identity",
      fullyQualifiedNamespace: "qcs-sb.servicebus.windows.net",
    });
    expect(config.storage).toMatchObject({
      kind: "identity",
      tableUrl: "https://qcsstore.table.core.windows.net",
    });
    expect(config.exclusions.images).toEqual([]);
  });

  it("parses comma lists and treats empty variables as unset", () => {
    const { config } = loadServiceConfig(
      ingestConfigSpec,
      {
        EVENTHUBS_CONNECTION_STRING: SB,
        SERVICEBUS_CONNECTION_STRING: SB,
        STORAGE_CONNECTION_STRING: STORAGE,
        EXCLUDE_RESOURCE_GROUPS: " rg-qcs-* , ,rg-sandbox ",
        LOG_LEVEL: "",
      },
      new SecretRedactor(),
    );
    expect(config.exclusions.resourceGroups).toEqual(["rg-qcs-*", "rg-sandbox"]);
    expect(config.logLevel).toBe("info");
  });

  it("reads a secret from <NAME>_FILE and refuses both forms at once", () => {
    const dir = mkdtempSync(join(tmpdir(), "qcs-config-"));
    const file = join(dir, "token");
    writeFileSync(file, `${TOKEN}\n`);
    const base = { SERVICEBUS_CONNECTION_STRING: SB, STORAGE_CONNECTION_STRING: STORAGE, QUALYS_POD: "EU1" };
    const { config } = loadServiceConfig(
      scannerConfigSpec,
      { ...base, QUALYS_ACCESS_TOKEN_FILE: file },
      new SecretRedactor(),
    );
    expect(config.qualys.accessToken).toBe(TOKEN);
    const both = configError(() =>
      loadServiceConfig(
        scannerConfigSpec,
        { ...base, QUALYS_ACCESS_TOKEN_FILE: file, QUALYS_ACCESS_TOKEN: TOKEN },
        new SecretRedactor(),
      ),
    );
    expect(both.issues[0]?.message).toContain("use one");
    const missing = configError(() =>
      loadServiceConfig(
        scannerConfigSpec,
        { ...base, QUALYS_ACCESS_TOKEN_FILE: join(dir, "nope") },
        new SecretRedactor(),
      ),
    );
    expect(missing.issues.map((issue) => issue.variable)).toContain("QUALYS_ACCESS_TOKEN_FILE");
  });

  it("prints the effective configuration with secrets redacted and registers them for the logs", () => {
    const redactor = new SecretRedactor();
    const { effective } = loadServiceConfig(
      scannerConfigSpec,
      {
        SERVICEBUS_CONNECTION_STRING: SB,
        STORAGE_CONNECTION_STRING: STORAGE,
        QUALYS_POD: "US2",
        QUALYS_ACCESS_TOKEN: "plain-opaque-token-123",
      },
      redactor,
    );
    expect(effective.QUALYS_ACCESS_TOKEN).toBe("[REDACTED]");
    expect(effective.SERVICEBUS_CONNECTION_STRING).toBe("[REDACTED]");
    expect(effective.SCAN_CACHE_HOURS).toBe(24);
    expect(JSON.stringify(effective)).not.toContain("plain-opaque-token-123");
    expect(redactor.redact("token is plain-opaque-token-123.")).toBe("token is [REDACTED].");
  });

  it("binds every service's HTTP server to HOST, every interface unless set, and rejects a malformed address", () => {
    const connections = {
      SERVICEBUS_CONNECTION_STRING: SB,
      EVENTHUBS_CONNECTION_STRING: SB,
      STORAGE_CONNECTION_STRING: STORAGE,
      QUALYS_POD: "US2",
      QUALYS_ACCESS_TOKEN: TOKEN,
    };
    const loaders = {
      ingest: (env: Record<string, string>) => loadServiceConfig(ingestConfigSpec, env, new SecretRedactor()),
      scanner: (env: Record<string, string>) =>
        loadServiceConfig(scannerConfigSpec, env, new SecretRedactor()),
      recorder: (env: Record<string, string>) =>
        loadServiceConfig(recorderConfigSpec, env, new SecretRedactor()),
    };
    for (const spec of [ingestConfigSpec, scannerConfigSpec, recorderConfigSpec]) {
      expect(configVariables(spec)).toContain("HOST");
    }
    for (const [service, load] of Object.entries(loaders)) {
      const host = (env: Record<string, string>) => load({ ...connections, ...env }).config.host;
      expect([service, host({})]).toEqual([service, "0.0.0.0"]);
      expect(host({ HOST: "127.0.0.1" })).toBe("127.0.0.1");
      expect(host({ HOST: "::" })).toBe("::");
      expect(host({ HOST: "" })).toBe("0.0.0.0");
      expect(configError(() => host({ HOST: "127.0.0.1:8080" })).issues).toEqual([
        { variable: "HOST", message: "expected an IP address or a host name" },
      ]);
    }
  });

  it("names every variable a service reads, for the infra drift check", () => {
    expect(configVariables(scannerConfigSpec)).toEqual(
      expect.arrayContaining([
        "QUALYS_ACCESS_TOKEN",
        "QUALYS_ACCESS_TOKEN_FILE",
        "SCAN_CACHE_HOURS",
        "SCAN_TIMEOUT",
        "QSCANNER_PATH",
      ]),
    );
  });
});
