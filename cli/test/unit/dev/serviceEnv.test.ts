import { describe, expect, it } from "vitest";
import { chooseScanner, type ServiceEnvOptions, serviceEnv } from "../../../src/dev/core/serviceEnv.ts";

const options = (overrides: Partial<ServiceEnvOptions> = {}): ServiceEnvOptions => ({
  service: "scanner",
  port: 8082,
  host: "127.0.0.1",
  endpoints: {
    serviceBus:
      "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;",
    eventHubs:
      "Endpoint=sb://127.0.0.1:5673;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;",
    storage: "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;",
    arm: { endpoint: "https://127.0.0.1:8443", token: "arm-token", caFile: "/tmp/ca.pem" },
    registry: "http://127.0.0.1:5000",
    recorderApiKey: "api-key",
  },
  scanner: { kind: "simulator", path: "/repo/emulators/src/qscanner-sim/qscanner.ts" },
  scannerTmpDir: "/tmp/run",
  logFormat: "json",
  nodeDir: "/node/bin",
  ...overrides,
});

describe("serviceEnv", () => {
  it("drops Azure settings from the user's environment so no service reaches past the local stack", () => {
    const env = serviceEnv(
      {
        SERVICEBUS_NAMESPACE: "prod-ns",
        STORAGE_ACCOUNT_NAME: "prodstorage",
        STORAGE_CONNECTION_STRING_FILE: "/secrets/storage",
        SCAN_REQUESTS_QUEUE: "other-queue",
        LOG_LEVEL: "debug",
        PATH: "/usr/bin",
      },
      options({ service: "ingest" }),
    );
    expect(env.SERVICEBUS_NAMESPACE).toBeUndefined();
    expect(env.STORAGE_ACCOUNT_NAME).toBeUndefined();
    expect(env.STORAGE_CONNECTION_STRING_FILE).toBeUndefined();
    expect(env.SCAN_REQUESTS_QUEUE).toBeUndefined();
    expect(env).toMatchObject({
      LOG_LEVEL: "debug",
      PATH: "/node/bin:/usr/bin",
      PORT: "8082",
      HOST: "127.0.0.1",
      EVENTHUBS_CONNECTION_STRING: options().endpoints.eventHubs,
      ARM_ENDPOINT: "https://127.0.0.1:8443",
      ARM_TOKEN: "arm-token",
      ARM_CA_FILE: "/tmp/ca.pem",
      SHUTDOWN_GRACE_SECONDS: "5",
    });
  });

  it("gives only the recorder the API key and only ingest the Event Hubs and ARM settings", () => {
    const recorder = serviceEnv({}, options({ service: "recorder" }));
    const scanner = serviceEnv({}, options({ service: "scanner" }));
    expect(recorder.RECORDER_API_KEY).toBe("api-key");
    expect(scanner.RECORDER_API_KEY).toBeUndefined();
    expect(recorder.EVENTHUBS_CONNECTION_STRING).toBeUndefined();
    expect(scanner.ARM_TOKEN).toBeUndefined();
  });

  it("runs the simulator with a placeholder token, never the user's Qualys token", () => {
    const env = serviceEnv({ QUALYS_ACCESS_TOKEN: "real-secret", QUALYS_POD: "EU1" }, options());
    expect(env).toMatchObject({
      QSCANNER_PATH: "/repo/emulators/src/qscanner-sim/qscanner.ts",
      QUALYS_POD: "US2",
      QUALYS_ACCESS_TOKEN: "local-simulator-token",
      REGISTRY_API_BASE_URL: "http://127.0.0.1:5000",
      SCAN_RETRY_DELAY_SECONDS: "1",
      TMPDIR: "/tmp/run",
    });
  });

  it("keeps the user's Qualys settings and tuning for the real qscanner", () => {
    const env = serviceEnv(
      { QUALYS_ACCESS_TOKEN: "real-secret", QUALYS_POD: "EU1", SCAN_RETRY_DELAY_SECONDS: "30" },
      options({ scanner: { kind: "qscanner", path: "/opt/qscanner" } }),
    );
    expect(env).toMatchObject({
      QSCANNER_PATH: "/opt/qscanner",
      QUALYS_POD: "EU1",
      QUALYS_ACCESS_TOKEN: "real-secret",
      SCAN_RETRY_DELAY_SECONDS: "30",
    });
  });
});

describe("chooseScanner", () => {
  it("uses the real qscanner only when both its path and a Qualys token are given", () => {
    expect(chooseScanner({ QSCANNER_PATH: "/opt/qscanner", QUALYS_ACCESS_TOKEN: "t" }, "/sim")).toEqual({
      kind: "qscanner",
      path: "/opt/qscanner",
    });
    expect(
      chooseScanner({ QSCANNER_PATH: "/opt/qscanner", QUALYS_ACCESS_TOKEN_FILE: "/t" }, "/sim").kind,
    ).toBe("qscanner");
    expect(chooseScanner({ QSCANNER_PATH: "/opt/qscanner" }, "/sim")).toEqual({
      kind: "simulator",
      path: "/sim",
    });
    expect(chooseScanner({ QUALYS_ACCESS_TOKEN: "t" }, "/sim").kind).toBe("simulator");
  });
});
