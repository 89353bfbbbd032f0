/**
 * Sends replayed bodies to the Event Hub with `@azure/event-hubs`, in as few batches as fit.
 * Event Hubs routes each batch to a partition of its choosing (no partition key: replayed events
 * have no order to keep across resources). An Activity Log body too large for one event is split
 * into halves, as the diagnostic setting itself would have sent smaller bodies.
 */
import type { EventDataBatch, EventHubProducerClient } from "@azure/event-hubs";
import { CliError, isCliError } from "../../core/cliError.ts";
import type { EventSender } from "../../core/ports.ts";
import { type ReplayBody, splitActivityLogBody } from "../../core/replayInput.ts";
import { errorSummary } from "../errorText.ts";

export class EventHubEventSender implements EventSender {
  readonly #producer: EventHubProducerClient;

  constructor(producer: EventHubProducerClient) {
    this.#producer = producer;
  }

  async send(bodies: readonly ReplayBody[], onSent?: (sent: number) => void): Promise<number> {
    try {
      const queue = [...bodies];
      let sent = 0;
      let batch = await this.#producer.createBatch();
      let inBatch = 0;
      while (queue.length > 0) {
        const next = queue[0] as ReplayBody;
        if (batch.tryAdd({ body: next.body, contentType: "application/json" })) {
          queue.shift();
          inBatch += 1;
          continue;
        }
        if (inBatch > 0) {
          sent += await this.#flush(batch, inBatch);
          onSent?.(sent);
          batch = await this.#producer.createBatch();
          inBatch = 0;
          continue;
        }
        // Alone in an empty batch and still too large.
        const halves = splitActivityLogBody(next);
        if (halves === undefined) {
          throw new CliError(
            "INPUT",
            `an event of ${next.kind} is larger than the Event Hub accepts (${batch.maxSizeInBytes} bytes)`,
          );
        }
        queue.splice(0, 1, ...halves);
      }
      if (inBatch > 0) {
        sent += await this.#flush(batch, inBatch);
        onSent?.(sent);
      }
      return sent;
    } catch (error) {
      if (isCliError(error)) throw error;
      throw new CliError(
        "UNAVAILABLE",
        `cannot send to Event Hub ${this.#producer.eventHubName}: ${errorSummary(error)}`,
        { cause: error },
      );
    }
  }

  async #flush(batch: EventDataBatch, count: number): Promise<number> {
    await this.#producer.sendBatch(batch);
    return count;
  }
}
