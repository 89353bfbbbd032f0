import rhea from "rhea";
import { describe, expect, it } from "vitest";
import { parseEventHubsConfig } from "../../../src/eventhubs/config.ts";
import { answerManagementRequest } from "../../../src/eventhubs/management.ts";
import { EventHubsNamespace } from "../../../src/eventhubs/namespace.ts";

const topology = parseEventHubsConfig({
  UserConfig: {
    NamespaceConfig: [
      { Type: "EventHub", Name: "emulatorNs1", Entities: [{ Name: "activity-log", PartitionCount: "4" }] },
    ],
    LoggingConfig: { Type: "Console" },
  },
});

/** What the SDK sees: the body after an AMQP encode/decode round trip. */
const overTheWire = (body: Record<string, unknown>) =>
  rhea.message.decode(rhea.message.encode({ body })).body as Record<string, unknown>;

function failure(run: () => unknown) {
  try {
    run();
  } catch (error) {
    return error as { condition: string; statusCode: number; message: string };
  }
  throw new Error("expected the request to fail");
}

describe("$management READ", () => {
  const namespace = new EventHubsNamespace<string, string>(topology, { clock: () => 1_700_000_000_000 });

  it("describes the hub: name, creation time, partition count and ids", () => {
    const body = overTheWire(
      answerManagementRequest(namespace, {
        operation: "READ",
        name: "activity-log",
        type: "com.microsoft:eventhub",
      }),
    );
    expect(body).toEqual({
      name: "activity-log",
      created_at: new Date(1_700_000_000_000),
      partition_count: 4,
      partition_ids: ["0", "1", "2", "3"],
    });
  });

  it("describes an empty partition with -1 positions and is_partition_empty", () => {
    const body = overTheWire(
      answerManagementRequest(namespace, {
        operation: "READ",
        name: "activity-log",
        type: "com.microsoft:partition",
        partition: "2",
      }),
    );
    expect(body).toEqual({
      name: "activity-log",
      partition: "2",
      begin_sequence_number: -1,
      last_enqueued_sequence_number: -1,
      last_enqueued_offset: "-1",
      last_enqueued_time_utc: new Date(0),
      is_partition_empty: true,
    });
  });

  it("describes a partition with events by its first and last event", () => {
    namespace
      .hub("activity-log")
      .partition("1")
      .append([
        { size: 40, toPayload: () => "a" },
        { size: 60, toPayload: () => "b" },
      ]);
    const body = overTheWire(
      answerManagementRequest(namespace, {
        operation: "READ",
        name: "ACTIVITY-LOG",
        type: "com.microsoft:partition",
        partition: "1",
      }),
    );
    expect(body).toMatchObject({
      begin_sequence_number: 0,
      last_enqueued_sequence_number: 1,
      last_enqueued_offset: "40",
      last_enqueued_time_utc: new Date(1_700_000_000_000),
      is_partition_empty: false,
    });
  });

  it("answers a partition id the hub does not have with com.microsoft:argument-out-of-range", () => {
    expect(
      failure(() =>
        answerManagementRequest(namespace, {
          operation: "READ",
          name: "activity-log",
          type: "com.microsoft:partition",
          partition: "4",
        }),
      ),
    ).toMatchObject({ condition: "com.microsoft:argument-out-of-range", statusCode: 400 });
  });

  it("answers an unknown hub with amqp:not-found and an unknown operation with amqp:not-implemented", () => {
    expect(
      failure(() =>
        answerManagementRequest(namespace, {
          operation: "READ",
          name: "nope",
          type: "com.microsoft:eventhub",
        }),
      ),
    ).toMatchObject({ condition: "amqp:not-found", statusCode: 404 });
    expect(
      failure(() => answerManagementRequest(namespace, { operation: "DELETE", name: "activity-log" })),
    ).toMatchObject({ condition: "amqp:not-implemented" });
  });
});
