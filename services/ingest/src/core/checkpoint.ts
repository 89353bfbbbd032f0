/**
 * Where a partition may be checkpointed after a batch: just before the first event whose work is
 * unsettled (a lookup to retry, or a derived message Service Bus did not accept). Every message
 * derived from the events up to that point was accepted, so a restart from there loses nothing;
 * the unsettled events and those after them are processed again, and duplicate detection absorbs
 * the repeats.
 */
export interface CheckpointDecision {
  /** Index of the last event to checkpoint; -1 when none may be. */
  checkpointIndex: number;
  /** Index of the first event to process again; undefined when the whole batch is settled. */
  retryFrom: number | undefined;
}

export function decideCheckpoint(eventCount: number, unsettled: Iterable<number>): CheckpointDecision {
  let first: number | undefined;
  for (const index of unsettled) if (first === undefined || index < first) first = index;
  return first === undefined
    ? { checkpointIndex: eventCount - 1, retryFrom: undefined }
    : { checkpointIndex: first - 1, retryFrom: first };
}
