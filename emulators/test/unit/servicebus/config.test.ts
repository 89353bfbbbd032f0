import { describe, expect, it } from "vitest";
import {
  loadServiceBusConfig,
  parseServiceBusConfig,
  projectServiceBusConfigPath,
  ServiceBusConfigError,
  type ServiceBusEmulatorConfig,
} from "../../../src/servicebus/config.ts";
import { parseDuration } from "../../../src/servicebus/duration.ts";

const namespace = (content: object): ServiceBusEmulatorConfig =>
  ({
    UserConfig: { Namespaces: [{ Name: "sbemulatorns", ...content }], Logging: { Type: "Console" } },
  }) as never;

function issuesOf(raw: unknown): string[] {
  try {
    parseServiceBusConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceBusConfigError);
    return (error as ServiceBusConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  throw new Error("expected the configuration to be refused");
}

describe("Service Bus configuration", () => {
  it("reads the project's file: the request queues and notifications with 24 h duplicate detection, scan-completed with recorder", async () => {
    const topology = await loadServiceBusConfig(projectServiceBusConfigPath);
    expect(topology.namespace).toBe("sbemulatorns");
    const requestQueue = {
      lockDurationMs: 60_000,
      maxDeliveryCount: 5,
      defaultTtlMs: 86_400_000,
      deadLetterOnExpiration: true,
      forwardTo: undefined,
      forwardDeadLetteredTo: undefined,
      duplicateWindowMs: 86_400_000,
    };
    expect(topology.queues).toEqual([
      { name: "scan-requests", ...requestQueue },
      { name: "scan-requests-sweep", ...requestQueue },
      { name: "notifications", ...requestQueue, defaultTtlMs: 604_800_000 },
    ]);
    expect(topology.topics).toMatchObject([
      {
        name: "scan-completed",
        duplicateWindowMs: 86_400_000,
        subscriptions: [{ name: "recorder", lockDurationMs: 60_000, maxDeliveryCount: 5, rules: [] }],
      },
    ]);
  });

  it("applies Microsoft's emulator defaults to omitted properties and honours second-long durations", () => {
    const topology = parseServiceBusConfig(
      namespace({
        Queues: [
          { Name: "defaults" },
          {
            Name: "short",
            Properties: {
              LockDuration: "PT2S",
              RequiresDuplicateDetection: true,
              DuplicateDetectionHistoryTimeWindow: "PT3S",
            },
          },
        ],
      }),
    );
    expect(topology.queues[0]).toMatchObject({
      lockDurationMs: 60_000,
      maxDeliveryCount: 3,
      defaultTtlMs: 3_600_000,
      duplicateWindowMs: undefined,
    });
    expect(topology.queues[1]).toMatchObject({ lockDurationMs: 2000, duplicateWindowMs: 3000 });
  });

  it("names the path of every bad field", () => {
    const issues = issuesOf(
      namespace({
        Queues: [
          {
            Name: "q",
            Properties: { LockDuration: "PT10M", MaxDeliveryCount: 0, DefaultMessageTimeToLive: "soon" },
          },
        ],
        Topics: [{ Name: "t", Subscriptions: [{ Name: "s", Properties: { RequiresSession: true } }] }],
      }),
    );
    expect(issues).toEqual([
      'UserConfig.Namespaces[0].Queues[0].Properties.DefaultMessageTimeToLive: must be a positive ISO-8601 duration such as PT30S, PT1M or P1D (got "soon")',
      "UserConfig.Namespaces[0].Queues[0].Properties.LockDuration: must not exceed PT5M, Azure's maximum (got PT10M)",
      expect.stringMatching(/^UserConfig\.Namespaces\[0\]\.Queues\[0\]\.Properties\.MaxDeliveryCount: /),
      expect.stringMatching(
        /^UserConfig\.Namespaces\[0\]\.Topics\[0\]\.Subscriptions\[0\]\.Properties\.RequiresSession: sessions are not supported/,
      ),
    ]);
  });

  it("refuses another namespace name, duplicate entity names and forwarding to nowhere", () => {
    expect(issuesOf({ UserConfig: { Namespaces: [{ Name: "other" }] } })[0]).toMatch(
      /^UserConfig\.Namespaces\[0\]\.Name: /,
    );
    expect(
      issuesOf(
        namespace({
          Queues: [{ Name: "jobs", Properties: { ForwardTo: "missing" } }],
          Topics: [{ Name: "JOBS" }],
        }),
      ),
    ).toEqual([
      "UserConfig.Namespaces[0].Topics[0].Name: duplicates UserConfig.Namespaces[0].Queues[0] (names are case-insensitive)",
      'UserConfig.Namespaces[0].Queues[0].Properties.ForwardTo: no queue or topic named "missing"',
    ]);
  });

  it("accepts correlation filters and the SQL filters 1=1 / 1=0, and refuses other SQL", () => {
    const topology = parseServiceBusConfig(
      namespace({
        Topics: [
          {
            Name: "t",
            Subscriptions: [
              {
                Name: "s",
                Rules: [
                  {
                    Name: "c",
                    Properties: {
                      FilterType: "Correlation",
                      CorrelationFilter: { Label: "x", Properties: { k: 1 } },
                    },
                  },
                  { Name: "t", Properties: { FilterType: "Sql", SqlFilter: { SqlExpression: "1=1" } } },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(topology.topics[0]?.subscriptions[0]?.rules).toEqual([
      { name: "c", filter: { type: "correlation", system: { Label: "x" }, properties: { k: 1 } } },
      { name: "t", filter: { type: "true" } },
    ]);
    const sql = {
      Name: "q",
      Properties: { FilterType: "Sql", SqlFilter: { SqlExpression: "sys.Label = 'x'" } },
    };
    expect(
      issuesOf(namespace({ Topics: [{ Name: "t", Subscriptions: [{ Name: "s", Rules: [sql] }] }] }))[0],
    ).toMatch(/Rules\[0\]\.Properties\.SqlFilter\.SqlExpression: only the SQL filters 1=1 and 1=0/);
  });

  it("reports an unreadable or non-JSON file with its path", async () => {
    await expect(loadServiceBusConfig("/nonexistent/Config.json")).rejects.toThrow(
      /\/nonexistent\/Config\.json/,
    );
  });
});

describe("ISO-8601 durations", () => {
  it.each([
    ["PT1M", 60_000],
    ["PT2S", 2000],
    ["PT0.5S", 500],
    ["P1D", 86_400_000],
    ["PT24H", 86_400_000],
    ["P1DT1H", 90_000_000],
    ["P2W", 14 * 86_400_000],
  ])("reads %s as %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "P", "PT", "1M", "P1Y", "PT-1S", "soon"])("refuses %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
