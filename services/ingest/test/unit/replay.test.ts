import { describe, expect, it } from "vitest";
import { PartitionReplay, type UnsettledEvent } from "../../src/core/replay.ts";

const forbidden = (index: number, resourceId = `/r/${index}`): UnsettledEvent => ({
  index,
  causes: [{ kind: "unauthorized", resourceId, correlationId: `c-${index}`, message: "403" }],
});

describe("replaying a partition batch with a bound", () => {
  it("keeps retrying an event until it has failed for the bound, then gives it up and checkpoints past it", () => {
    const replay = new PartitionReplay(2000);
    expect(replay.decide(0, 3, [forbidden(1)], 0)).toEqual({ checkpointIndex: 0, retryFrom: 1, givenUp: [] });
    // Replays start at the unsettled event: it is index 0 of the slice, position 1 of the batch.
    expect(replay.decide(1, 2, [forbidden(0, "/r/1")], 1999)).toMatchObject({ retryFrom: 0, givenUp: [] });
    expect(replay.decide(1, 2, [forbidden(0, "/r/1")], 2000)).toEqual({
      checkpointIndex: 1,
      retryFrom: undefined,
      givenUp: [{ ...forbidden(0, "/r/1"), failingForMs: 2000 }],
    });
  });

  it("measures each event from its own first failure", () => {
    const replay = new PartitionReplay(1000);
    replay.decide(0, 4, [forbidden(1)], 0);
    // Event 3 starts failing later: when event 1 is given up, event 3 is where the replay resumes.
    replay.decide(1, 3, [forbidden(0, "/r/1"), forbidden(2, "/r/3")], 500);
    const decision = replay.decide(1, 3, [forbidden(0, "/r/1"), forbidden(2, "/r/3")], 1000);
    expect(decision).toMatchObject({ checkpointIndex: 1, retryFrom: 2 });
    expect(decision.givenUp.map((event) => event.index)).toEqual([0]);
    expect(replay.decide(3, 1, [forbidden(0, "/r/3")], 1500).givenUp).toEqual([
      { ...forbidden(0, "/r/3"), failingForMs: 1000 },
    ]);
  });

  it("never gives up when the bound is 0", () => {
    const replay = new PartitionReplay(0);
    replay.decide(0, 1, [forbidden(0)], 0);
    expect(replay.decide(0, 1, [forbidden(0)], 86_400_000)).toEqual({
      checkpointIndex: -1,
      retryFrom: 0,
      givenUp: [],
    });
  });

  it("never gives up events whose messages the queue refused: their work waits for the queue", () => {
    const replay = new PartitionReplay(1000);
    const refused: UnsettledEvent = {
      index: 0,
      causes: [forbidden(0).causes[0] as never, { kind: "send-failed", message: "ServiceUnavailable" }],
    };
    replay.decide(0, 1, [refused], 0);
    expect(replay.decide(0, 1, [refused], 60_000)).toMatchObject({ retryFrom: 0, givenUp: [] });
  });

  it("gives up one event at a time from the head when processing throws, since the culprit is unknown", () => {
    const replay = new PartitionReplay(1000);
    const thrown = (count: number) =>
      Array.from({ length: count }, (_, index) => ({
        index,
        causes: [{ kind: "processing-error" as const, message: "boom" }],
      }));
    replay.decide(0, 3, thrown(3), 0);
    const first = replay.decide(0, 3, thrown(3), 1000);
    expect(first).toMatchObject({ checkpointIndex: 0, retryFrom: 1 });
    expect(first.givenUp.map((event) => event.index)).toEqual([0]);
    // The next head failed since the same moment: given up on its next failure, the rest go on.
    const second = replay.decide(1, 2, thrown(2), 1001);
    expect(second).toMatchObject({ checkpointIndex: 0, retryFrom: 1 });
    expect(replay.decide(2, 1, [], 1002)).toEqual({ checkpointIndex: 0, retryFrom: undefined, givenUp: [] });
  });
});
