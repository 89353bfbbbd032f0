import { describe, expect, it } from "vitest";
import {
  afterPull,
  initialSlotState,
  type Lane,
  planPulls,
  type SlotState,
} from "../../src/core/slotScheduler.ts";

/** Fills `free` slots from two backlogs the way the receiver does; returns the lanes started, in order. */
function fill(state: SlotState, free: number, backlog: Record<Lane, number>, maxStreak: number) {
  const started: Lane[] = [];
  let current = state;
  while (free > 0) {
    let received = 0;
    for (const pull of planPulls(current, free, maxStreak)) {
      received = Math.min(pull.max, backlog[pull.lane]);
      backlog[pull.lane] -= received;
      current = afterPull(current, pull.lane, received);
      started.push(...Array<Lane>(received).fill(pull.lane));
      if (received > 0) break;
    }
    if (received === 0) break;
    free -= received;
  }
  return { started, state: current };
}

describe("slot scheduler", () => {
  it("offers every free slot to the deployment queue first", () => {
    expect(planPulls(initialSlotState, 4, 10)[0]).toEqual({ lane: "deployment", max: 4 });
    const { started } = fill(initialSlotState, 4, { deployment: 3, sweep: 100 }, 10);
    expect(started).toEqual(["deployment", "deployment", "deployment", "sweep"]);
  });

  it("takes sweep work only when no deployment request is waiting", () => {
    const { started } = fill(initialSlotState, 3, { deployment: 0, sweep: 100 }, 10);
    expect(started).toEqual(["sweep", "sweep", "sweep"]);
  });

  it("never asks for more messages than free slots", () => {
    expect(planPulls(initialSlotState, 0, 10)).toEqual([]);
    for (const pull of planPulls({ priorityStreak: 10 }, 2, 10)) expect(pull.max).toBeLessThanOrEqual(2);
    expect(planPulls({ priorityStreak: 7 }, 16, 10)[0]).toEqual({ lane: "deployment", max: 3 });
  });

  it("under sustained deployment load gives the sweep one start after each streak of N", () => {
    const backlog = { deployment: 1_000, sweep: 1_000 };
    let state = initialSlotState;
    const started: Lane[] = [];
    // One slot frees at a time, as scans finish.
    for (let i = 0; i < 33; i++) {
      const result = fill(state, 1, backlog, 10);
      state = result.state;
      started.push(...result.started);
    }
    expect(started.filter((lane) => lane === "sweep")).toHaveLength(3);
    expect(started.indexOf("sweep")).toBe(10);
    expect(started.slice(0, 22).lastIndexOf("sweep")).toBe(21);
  });

  it("does not owe the sweep a slot when its queue was empty", () => {
    const backlog = { deployment: 1_000, sweep: 0 };
    const { started, state } = fill({ priorityStreak: 10 }, 4, backlog, 10);
    expect(started).toEqual(["deployment", "deployment", "deployment", "deployment"]);
    expect(state.priorityStreak).toBe(4);
  });
});
