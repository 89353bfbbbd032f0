/**
 * Which queue fills the scanner's free slots. Service Bus has no message priority, so deployment
 * requests (and people's rescans) and sweep requests come from two queues and the order is decided
 * here:
 *
 * - A free slot is offered to the deployment queue first; the sweep queue gets it only when no
 *   deployment request is waiting.
 * - Fairness: at most `maxPriorityStreak` deployment scans start in a row while the sweep queue
 *   has work; the next free slot is then offered to the sweep queue first. Under sustained deployment
 *   load the sweep still gets one start in `maxPriorityStreak + 1`.
 *
 * The streak ends whenever the sweep queue is asked: either a sweep scan starts, or the sweep queue
 * was empty and so nothing was being starved.
 */

export type Lane = "deployment" | "sweep";

export interface SlotState {
  /** Deployment scans started since the sweep queue was last asked. */
  readonly priorityStreak: number;
}

export interface Pull {
  readonly lane: Lane;
  /** Most messages to take (never more than the free slots). */
  readonly max: number;
}

export const initialSlotState: SlotState = { priorityStreak: 0 };

/**
 * The receives to try, in order, for `freeSlots` free slots; the caller stops at the first that
 * returns messages and reports each attempt through {@link afterPull}.
 */
export function planPulls(state: SlotState, freeSlots: number, maxPriorityStreak: number): Pull[] {
  if (freeSlots <= 0) return [];
  const sweep: Pull = { lane: "sweep", max: freeSlots };
  const owed = maxPriorityStreak - state.priorityStreak;
  // Asking the sweep queue ends the streak, so the deployment queue may then take a full streak.
  if (owed <= 0) return [sweep, { lane: "deployment", max: Math.min(freeSlots, maxPriorityStreak) }];
  return [{ lane: "deployment", max: Math.min(freeSlots, owed) }, sweep];
}

/** The state after a receive from `lane` returned `received` messages. */
export function afterPull(state: SlotState, lane: Lane, received: number): SlotState {
  if (lane === "sweep") return initialSlotState;
  return { priorityStreak: state.priorityStreak + received };
}
