import { describe, expect, it } from "vitest";
import { parseEventHubsConfig } from "../../../src/eventhubs/config.ts";
import {
  EventHubsNamespace,
  parseReceiverAddress,
  parseSenderAddress,
} from "../../../src/eventhubs/namespace.ts";
import { partitionIndexForKey } from "../../../src/eventhubs/partitionKey.ts";

const namespace = () =>
  new EventHubsNamespace<string, string>(
    parseEventHubsConfig({
      UserConfig: {
        NamespaceConfig: [
          {
            Type: "EventHub",
            Name: "emulatorNs1",
            Entities: [{ Name: "activity-log", PartitionCount: 4, ConsumerGroups: [{ Name: "ingest" }] }],
          },
        ],
        LoggingConfig: { Type: "Console" },
      },
    }),
  );

describe("link addresses", () => {
  it("reads sender addresses for the hub and for one partition", () => {
    expect(parseSenderAddress("activity-log")).toEqual({ hub: "activity-log" });
    expect(parseSenderAddress("activity-log/Partitions/3")).toEqual({
      hub: "activity-log",
      partitionId: "3",
    });
  });

  it("reads receiver addresses", () => {
    expect(parseReceiverAddress("activity-log/ConsumerGroups/$Default/Partitions/0")).toEqual({
      hub: "activity-log",
      consumerGroup: "$Default",
      partitionId: "0",
    });
  });

  it("answers malformed addresses with amqp:not-found", () => {
    expect(() => parseSenderAddress("a/b")).toThrow(expect.objectContaining({ condition: "amqp:not-found" }));
    expect(() => parseReceiverAddress("activity-log/Partitions/0")).toThrow(
      expect.objectContaining({ condition: "amqp:not-found" }),
    );
  });
});

describe("hubs", () => {
  it("finds hubs and consumer groups regardless of case; unknown ones are amqp:not-found", () => {
    const hub = namespace().hub("Activity-Log");
    expect(hub.receivers("INGEST", "0").count).toBe(0);
    expect(hub.receivers("$default", "0").count).toBe(0);
    expect(() => namespace().hub("other")).toThrow(expect.objectContaining({ condition: "amqp:not-found" }));
    expect(() => hub.receivers("nobody", "0")).toThrow(
      expect.objectContaining({ condition: "amqp:not-found" }),
    );
  });

  it("rejects partition ids the hub does not have with com.microsoft:argument-out-of-range", () => {
    const hub = namespace().hub("activity-log");
    for (const id of ["4", "-1", "x", "01"]) {
      expect(() => hub.partition(id)).toThrow(
        expect.objectContaining({ condition: "com.microsoft:argument-out-of-range" }),
      );
    }
  });

  it("routes sends to the named partition, else by partition key, else round-robin", () => {
    const hub = namespace().hub("activity-log");
    expect(hub.choosePartition("2", "ignored")).toBe("2");
    expect(hub.choosePartition(undefined, "tenant-a")).toBe(String(partitionIndexForKey("tenant-a", 4)));
    expect([1, 2, 3, 4, 5].map(() => hub.choosePartition(undefined, undefined))).toEqual([
      "0",
      "1",
      "2",
      "3",
      "0",
    ]);
  });
});
