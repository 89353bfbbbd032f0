/**
 * When is a replay "fully processed"? When the pipeline is quiet at every hop, in the order work
 * flows through it:
 *
 * 1. ingest has checkpointed every event on the hub (it checkpoints only after Service Bus
 *    accepted every request derived from the events before that point);
 * 2. `scan-requests` holds no message in any state (active, locked by a scanner, scheduled for a
 *    retry): the scanner publishes its result before it completes or dead-letters a request;
 * 3. the `recorder` subscription holds no message: the recorder completes a result only after
 *    it was written to Table Storage.
 *
 * This needs no second copy of ingest's selection rules, so it holds for any events and
 * inventory. Being quiet once could be a moment between two hops, so it must be seen on
 * consecutive observations.
 */

export interface PartitionProgress {
  partitionId: string;
  /** Last sequence number on the partition; -1 when it is empty. */
  lastSequenceNumber: number;
  /** Sequence number of ingest's checkpoint; undefined before the first one. */
  checkpointSequenceNumber: number | undefined;
}

export interface PendingMessage {
  /** The image the message is about, when known (application property or body). */
  imageRef: string | undefined;
  /** `active`, `scheduled`, `deferred` (a locked message is active). */
  state: string;
}

export interface PipelineObservation {
  partitions: readonly PartitionProgress[];
  /** Messages in `scan-requests`, in any state. */
  requests: readonly PendingMessage[];
  /** Messages in the recorder's subscription, in any state. */
  results: readonly PendingMessage[];
}

export interface ProgressAssessment {
  quiet: boolean;
  eventsTotal: number;
  eventsProcessed: number;
  requestsPending: number;
  resultsPending: number;
  /** One line per hop that still holds work, naming it. */
  left: string[];
}

export function assessProgress(observation: PipelineObservation): ProgressAssessment {
  let eventsTotal = 0;
  let eventsProcessed = 0;
  const behind: string[] = [];
  for (const partition of observation.partitions) {
    const total = partition.lastSequenceNumber + 1;
    const processed = Math.min(total, (partition.checkpointSequenceNumber ?? -1) + 1);
    eventsTotal += total;
    eventsProcessed += processed;
    if (processed < total) behind.push(`${partition.partitionId} (${total - processed})`);
  }
  const left: string[] = [];
  if (eventsProcessed < eventsTotal) {
    left.push(
      `ingest: ${eventsTotal - eventsProcessed} of ${eventsTotal} event(s) not checkpointed yet, on partition(s) ${behind.join(", ")}`,
    );
  }
  if (observation.requests.length > 0) {
    left.push(`scanner: ${describePending(observation.requests)} in scan-requests`);
  }
  if (observation.results.length > 0) {
    left.push(`recorder: ${describePending(observation.results)} not recorded yet`);
  }
  return {
    quiet: left.length === 0,
    eventsTotal,
    eventsProcessed,
    requestsPending: observation.requests.length,
    resultsPending: observation.results.length,
    left,
  };
}

function describePending(messages: readonly PendingMessage[]): string {
  const byState = new Map<string, number>();
  for (const message of messages) byState.set(message.state, (byState.get(message.state) ?? 0) + 1);
  const states = [...byState].map(([state, count]) => `${count} ${state}`).join(", ");
  const images = [...new Set(messages.map((message) => message.imageRef ?? "(unknown image)"))];
  const shown = images.slice(0, 5).join(", ") + (images.length > 5 ? `, and ${images.length - 5} more` : "");
  return `${messages.length} message(s) (${states}: ${shown})`;
}

/** Done once the pipeline was quiet on `required` consecutive observations. */
export class QuietTracker {
  readonly #required: number;
  #streak = 0;

  constructor(required = 2) {
    this.#required = required;
  }

  /** Records one observation; true when the pipeline counts as fully processed. */
  observe(assessment: ProgressAssessment): boolean {
    this.#streak = assessment.quiet ? this.#streak + 1 : 0;
    return this.#streak >= this.#required;
  }
}
