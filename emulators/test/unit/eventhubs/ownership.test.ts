import { describe, expect, it } from "vitest";
import { MAX_RECEIVERS_PER_PARTITION, PartitionReceivers } from "../../../src/eventhubs/ownership.ts";

function refusal(claim: () => unknown) {
  try {
    claim();
  } catch (error) {
    return error as { condition: string; message: string };
  }
  throw new Error("expected the receiver to be refused");
}

describe("receiver arbitration (owner level / epoch)", () => {
  it("lets a receiver with an equal or higher owner level steal the partition with amqp:link:stolen", () => {
    const receivers = new PartitionReceivers<string>();
    expect(receivers.claim("a", "a", 1)).toEqual([]);
    const stolenByEqual = receivers.claim("b", "b", 1);
    expect(stolenByEqual.map((s) => s.receiver)).toEqual(["a"]);
    expect(stolenByEqual[0]?.error.condition).toBe("amqp:link:stolen");
    expect(receivers.claim("c", "c", 5).map((s) => s.receiver)).toEqual(["b"]);
    expect(receivers.count).toBe(1);
  });

  it("refuses a receiver with a lower owner level", () => {
    const receivers = new PartitionReceivers<string>();
    receivers.claim("high", "high", 3);
    expect(refusal(() => receivers.claim("low", "low", 2))).toMatchObject({
      condition: "amqp:link:stolen",
      message: expect.stringContaining("higher epoch '3'"),
    });
    expect(receivers.count).toBe(1);
  });

  it("disconnects receivers without an owner level when one with a level arrives, and refuses them after", () => {
    const receivers = new PartitionReceivers<string>();
    receivers.claim("x", "x", undefined);
    receivers.claim("y", "y", undefined);
    expect(receivers.claim("owner", "owner", 0).map((s) => s.receiver)).toEqual(["x", "y"]);
    expect(refusal(() => receivers.claim("z", "z", undefined)).condition).toBe("amqp:link:stolen");
  });

  it("allows several receivers without an owner level, up to Event Hubs' limit of 5", () => {
    const receivers = new PartitionReceivers<number>();
    for (let i = 0; i < MAX_RECEIVERS_PER_PARTITION; i += 1) receivers.claim(i, `r${i}`, undefined);
    expect(refusal(() => receivers.claim(99, "r99", undefined)).condition).toBe(
      "amqp:resource-limit-exceeded",
    );
  });

  it("frees the partition when a receiver is released", () => {
    const receivers = new PartitionReceivers<string>();
    receivers.claim("high", "high", 9);
    receivers.release("high");
    expect(receivers.claim("low", "low", 1)).toEqual([]);
  });
});
