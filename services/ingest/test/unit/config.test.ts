import { ingestConfigSpec, loadServiceConfig, SecretRedactor } from "@qcs/shared";
import { describe, expect, it } from "vitest";

const CONNECTIONS = {
  EVENTHUBS_CONNECTION_STRING:
    "Endpoint=sb://127.0.0.1:5673;SharedAccessKeyName=k;SharedAccessKey=eh-key-value",
  SERVICEBUS_CONNECTION_STRING:
    "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=sb-key-value",
  STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
};

describe("ingest configuration", () => {
  it("defaults to Azure's ARM with managed identity and bounded lookups", () => {
    const { config } = loadServiceConfig(ingestConfigSpec, CONNECTIONS, new SecretRedactor());
    expect(config.arm).toEqual({
      endpoint: "https://management.azure.com",
      staticToken: undefined,
      caFile: undefined,
      timeoutMs: 30_000,
      cacheMs: 300_000,
      concurrency: 8,
    });
    expect(config).toMatchObject({
      batchSize: 100,
      dedupWindowMs: 300_000,
      retryGiveUpMs: 1_800_000,
      eventHubName: "activity-log",
    });
  });

  it("takes a local ARM endpoint with a static token that never appears in the printed configuration", () => {
    const { config, effective } = loadServiceConfig(
      ingestConfigSpec,
      {
        ...CONNECTIONS,
        ARM_ENDPOINT: "https://127.0.0.1:7443/",
        ARM_TOKEN: "local-arm-token",
        ARM_CA_FILE: "/tmp/ca.pem",
      },
      new SecretRedactor(),
    );
    expect(config.arm).toMatchObject({
      endpoint: "https://127.0.0.1:7443",
      staticToken: "local-arm-token",
      caFile: "/tmp/ca.pem",
    });
    expect(JSON.stringify(effective)).not.toContain("local-arm-token");
  });

  it("reports every out-of-range setting at once", () => {
    expect(() =>
      loadServiceConfig(
        ingestConfigSpec,
        { ...CONNECTIONS, ARM_ENDPOINT: "not a url", ARM_CONCURRENCY: "0", INGEST_BATCH_SIZE: "lots" },
        new SecretRedactor(),
      ),
    ).toThrow(/ARM_ENDPOINT[\s\S]*ARM_CONCURRENCY[\s\S]*INGEST_BATCH_SIZE/);
  });
});
