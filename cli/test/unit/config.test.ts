import { loadServiceConfig, SecretRedactor, scanctlConfigSpec } from "@qcs/shared";
import { describe, expect, it } from "vitest";

const SB =
  "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;";
const load = (env: Record<string, string>) =>
  loadServiceConfig(scanctlConfigSpec, env, new SecretRedactor()).config;

describe("scanctl configuration", () => {
  it("needs no connection at all, so each command asks only for what it uses", () => {
    const config = load({});
    expect(config.serviceBus).toBeUndefined();
    expect(config.eventHubs).toBeUndefined();
    expect(config.recorder).toBeUndefined();
    expect([
      config.scanRequestsQueue,
      config.scanCompletedTopic,
      config.recorderSubscription,
      config.eventHubName,
    ]).toEqual(["scan-requests", "scan-completed", "recorder", "activity-log"]);
    expect(config.serviceBusEmulatorAdminPort).toBe(5300);
  });

  it("reads the services' variables", () => {
    const config = load({
      SERVICEBUS_CONNECTION_STRING: SB,
      EVENTHUBS_NAMESPACE: "contoso-events",
      RECORDER_URL: "http://127.0.0.1:8080",
      RECORDER_API_KEY: "a-long-api-key",
      SCAN_REQUESTS_QUEUE: "requests-2",
    });
    expect(config.serviceBus).toEqual({ kind: "connectionString", connectionString: SB });
    expect(config.eventHubs).toEqual({
      kind: "identity",
      fullyQualifiedNamespace: "contoso-events.servicebus.windows.net",
    });
    expect(config.recorder).toEqual({ url: "http://127.0.0.1:8080", apiKey: "a-long-api-key" });
    expect(config.scanRequestsQueue).toBe("requests-2");
  });

  it("refuses both a connection string and a namespace", () => {
    expect(() => load({ SERVICEBUS_CONNECTION_STRING: SB, SERVICEBUS_NAMESPACE: "ns" })).toThrow(
      /SERVICEBUS_CONNECTION_STRING: set either/,
    );
  });

  it("refuses a recorder URL that is not http(s)", () => {
    expect(() => load({ RECORDER_URL: "localhost:8080" })).toThrow(/RECORDER_URL: expected an http/);
  });

  it("redacts its secrets in the effective configuration", () => {
    const { effective } = loadServiceConfig(
      scanctlConfigSpec,
      { SERVICEBUS_CONNECTION_STRING: SB, RECORDER_API_KEY: "a-long-api-key" },
      new SecretRedactor(),
    );
    expect(JSON.stringify(effective)).not.toContain("SAS_KEY_VALUE");
    expect(JSON.stringify(effective)).not.toContain("a-long-api-key");
  });
});
