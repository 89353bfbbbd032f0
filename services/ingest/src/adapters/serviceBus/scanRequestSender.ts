/**
 * Sends ScanRequested messages to the `scan-requests` queue in as few batches as fit
 * (`createMessageBatch`), and reports exactly which messages the broker accepted, so the core
 * checkpoints nothing whose messages are not on the queue. Transient errors are retried inside
 * the SDK; what still fails is returned, not thrown.
 */
import type { ServiceBusMessage, ServiceBusMessageBatch, ServiceBusSender } from "@azure/service-bus";
import type { ScanRequestMessage, ScanRequestSink, SendResult } from "../../core/batchProcessor.ts";

export function serviceBusScanRequestSink(sender: ServiceBusSender): ScanRequestSink {
  return {
    async send(messages: readonly ScanRequestMessage[], abortSignal: AbortSignal): Promise<SendResult> {
      const accepted = new Set<string>();
      const rejected = new Set<string>();
      try {
        let batch = await sender.createMessageBatch({ abortSignal });
        let inBatch: string[] = [];
        const flush = async (full: ServiceBusMessageBatch) => {
          await sender.sendMessages(full, { abortSignal });
          for (const id of inBatch) accepted.add(id);
          inBatch = [];
        };
        for (const message of messages) {
          const outgoing = toServiceBusMessage(message);
          if (batch.tryAddMessage(outgoing)) {
            inBatch.push(message.messageId);
            continue;
          }
          if (batch.count > 0) {
            await flush(batch);
            batch = await sender.createMessageBatch({ abortSignal });
            if (batch.tryAddMessage(outgoing)) {
              inBatch.push(message.messageId);
              continue;
            }
          }
          // It does not fit even in an empty batch: it never will.
          rejected.add(message.messageId);
        }
        if (batch.count > 0) await flush(batch);
        return { accepted, rejected };
      } catch (error) {
        return { accepted, rejected, error };
      }
    },
  };
}

function toServiceBusMessage(message: ScanRequestMessage): ServiceBusMessage {
  return {
    body: message.body,
    messageId: message.messageId,
    subject: message.subject,
    contentType: message.contentType,
    applicationProperties: message.applicationProperties,
  };
}
