/** Small helpers for the conformance suite: waiting for conditions and collecting what a subscription sees. */
import type {
  EventHubConsumerClient,
  PartitionContext,
  ReceivedEventData,
  SubscribeOptions,
  Subscription,
} from "@azure/event-hubs";
import { waitFor } from "@qcs/test-support";

export interface PartitionReader {
  events: ReceivedEventData[];
  errors: Error[];
  contexts: PartitionContext[];
  /** processEvents calls with no events: the receiver is attached and waited maxWaitTimeInSeconds. */
  idleCalls: number;
  subscription: Subscription;
  /** Waits for at least `count` events. */
  received(count: number, timeoutMs?: number): Promise<ReceivedEventData[]>;
  /** Waits until the receiver has been attached and idle at least once more. */
  idle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Subscribes to one partition and records everything the SDK hands over. */
export function readPartition(
  client: EventHubConsumerClient,
  partitionId: string,
  options: SubscribeOptions,
): PartitionReader {
  const reader = {
    events: [] as ReceivedEventData[],
    errors: [] as Error[],
    contexts: [] as PartitionContext[],
    idleCalls: 0,
  };
  const subscription = client.subscribe(
    partitionId,
    {
      processEvents: async (events, context) => {
        reader.contexts.push(context);
        if (events.length === 0) reader.idleCalls += 1;
        reader.events.push(...events);
      },
      processError: async (error) => {
        reader.errors.push(error);
      },
    },
    { maxWaitTimeInSeconds: 1, ...options },
  );
  return Object.assign(reader, {
    subscription,
    received: async (count: number, timeoutMs?: number) => {
      await waitFor(
        () => reader.events.length >= count,
        `${count} events on partition ${partitionId}`,
        timeoutMs,
      );
      return reader.events;
    },
    idle: async (timeoutMs?: number) => {
      const seen = reader.idleCalls;
      await waitFor(() => reader.idleCalls > seen, `an idle receive on partition ${partitionId}`, timeoutMs);
    },
    close: () => subscription.close(),
  });
}

/** Bodies of the events in order, for readable assertions. */
export const bodies = (events: ReadonlyArray<{ body: unknown }>) => events.map((event) => event.body);
