/**
 * Resubmitting or purging selected dead letters without losing or duplicating any.
 *
 * Dead letters are received in peek-lock from the dead-letter queue. One that was selected is
 * handled (its copy sent to the main entity, then it is completed; or, to purge, only completed);
 * one that was not is kept locked, so the next receive moves past it, and abandoned at the end,
 * which returns it to the dead-letter queue unchanged (Service Bus does not dead-letter or drop a
 * message abandoned inside a dead-letter queue; only its delivery count grows).
 *
 * Order of effects: a dead letter is completed only after its copy was accepted by the broker. If
 * sending fails, the dead letters of that send are abandoned and stay; if completing fails after a
 * successful send, the dead letter stays and the copy exists: resubmitting it again sends a copy
 * with the same messageId, which duplicate detection on the main entity drops.
 */
import type { DeadLetter } from "./deadLetters.ts";
import { type ResubmissionCopy, resubmissionCopy } from "./resubmission.ts";

/** A dead letter received in peek-lock; the adapter keeps whatever it needs to settle it. */
export interface LockedDeadLetter {
  readonly deadLetter: DeadLetter;
}

export interface DeadLetterReceiver<L extends LockedDeadLetter> {
  /** Up to `maxCount` dead letters, locked; empty when none arrives within the adapter's wait. */
  receive(maxCount: number): Promise<L[]>;
  /** Removes the dead letter. */
  complete(message: L): Promise<void>;
  /** Releases the lock; the dead letter stays where it is. */
  abandon(message: L): Promise<void>;
}

export interface CopySender {
  /**
   * Sends the first copies, as many as fit in one batch, atomically (all of them or none), and
   * returns how many that was (at least one). Throws when nothing was sent.
   */
  sendSome(copies: readonly ResubmissionCopy[]): Promise<number>;
}

export type SettleAction = { kind: "resubmit"; sender: CopySender } | { kind: "purge" };

export interface SettleReport {
  /** Resubmitted (copy sent, dead letter removed) or purged. */
  settled: bigint[];
  /**
   * Still in the dead-letter queue although handled: for resubmit, its copy was sent (resubmitting
   * again is safe, the repeat copy is dropped as a duplicate); for purge, removal failed.
   */
  notRemoved: bigint[];
  /** Selected but not received: removed meanwhile, or locked by another receiver. */
  notFound: bigint[];
  /** Selected and untouched because the run stopped early (see `failure`). */
  notAttempted: bigint[];
  /** What stopped the run before every selected dead letter was handled. */
  failure?: unknown;
}

export interface SettleOptions {
  /** Dead letters received at once. Default: 200. */
  batchSize?: number;
  /** Called after each step with how many selected dead letters have been handled so far. */
  onProgress?: (handled: number) => void;
  /** Stops the run between two batches (Ctrl-C); what was received and not handled is abandoned. */
  signal?: AbortSignal;
}

export async function settleDeadLetters<L extends LockedDeadLetter>(
  receiver: DeadLetterReceiver<L>,
  selected: ReadonlySet<bigint>,
  action: SettleAction,
  options: SettleOptions = {},
): Promise<SettleReport> {
  const batchSize = options.batchSize ?? 200;
  const remaining = new Set(selected);
  /** Received but not selected: held locked so later receives move past them. */
  const held = new Map<bigint, L>();
  const report: SettleReport = { settled: [], notRemoved: [], notFound: [], notAttempted: [] };
  const progress = () => options.onProgress?.(report.settled.length + report.notRemoved.length);

  try {
    while (remaining.size > 0) {
      if (options.signal?.aborted) {
        report.failure = new Error("interrupted");
        break;
      }
      const batch = await receiver.receive(batchSize);
      if (batch.length === 0) break;
      const chosen: L[] = [];
      let unseen = 0;
      for (const message of batch) {
        const sequenceNumber = message.deadLetter.sequenceNumber;
        if (remaining.has(sequenceNumber)) {
          remaining.delete(sequenceNumber);
          chosen.push(message);
          continue;
        }
        if (!held.has(sequenceNumber)) unseen += 1;
        // A repeat means its earlier lock expired; keep the newest lock.
        held.set(sequenceNumber, message);
      }
      if (chosen.length === 0 && unseen === 0) break; // only expired locks coming round again
      if (chosen.length === 0) continue;
      const stopped = await handle(chosen, action, receiver, report, progress);
      if (stopped) break;
    }
  } catch (error) {
    report.failure = error;
  } finally {
    // Best effort: a lock that cannot be released expires, and the dead letter stays either way.
    await Promise.allSettled([...held.values()].map((message) => receiver.abandon(message)));
  }
  if (report.failure === undefined) report.notFound.push(...remaining);
  else report.notAttempted.push(...remaining);
  return report;
}

/** Sends and completes one received selection; returns true when the run must stop. */
async function handle<L extends LockedDeadLetter>(
  chosen: L[],
  action: SettleAction,
  receiver: DeadLetterReceiver<L>,
  report: SettleReport,
  progress: () => void,
): Promise<boolean> {
  let pending = chosen;
  while (pending.length > 0) {
    let sentCount = pending.length;
    if (action.kind === "resubmit") {
      try {
        sentCount = await action.sender.sendSome(
          pending.map((message) => resubmissionCopy(message.deadLetter)),
        );
      } catch (error) {
        report.failure = error;
        await Promise.allSettled(pending.map((message) => receiver.abandon(message)));
        report.notAttempted.push(...pending.map((message) => message.deadLetter.sequenceNumber));
        return true;
      }
    }
    const sent = pending.slice(0, sentCount);
    pending = pending.slice(sentCount);
    const outcomes = await Promise.allSettled(sent.map((message) => receiver.complete(message)));
    outcomes.forEach((outcome, index) => {
      const sequenceNumber = (sent[index] as L).deadLetter.sequenceNumber;
      if (outcome.status === "fulfilled") report.settled.push(sequenceNumber);
      else {
        report.notRemoved.push(sequenceNumber);
        report.failure ??= outcome.reason;
      }
    });
    progress();
    if (report.failure !== undefined) {
      await Promise.allSettled(pending.map((message) => receiver.abandon(message)));
      report.notAttempted.push(...pending.map((message) => message.deadLetter.sequenceNumber));
      return true;
    }
  }
  return false;
}
