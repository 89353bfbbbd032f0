/**
 * Sends ScanRequested messages to the `scan-requests` queue in as few batches as fit
 * (`createMessageBatch`), and reports exactly which messages the broker accepted, so the core
 * checkpoints nothing whose messages are not on the queue. Transient errors are retried inside
 * the SDK; what still fails is returned, not thrown. Each message starts its image's trace: a
 * producer span in whose context the SDK stamps the message's `Diagnostic-Id`, which the scanner
 * and then the recorder continue.
 */
import type { ServiceBusMessage, ServiceBusMessageBatch, ServiceBusSender } from "@azure/service-bus";
import { context, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { IMAGE_ATTRIBUTE } from "@qcs/shared/runtime";
import type { ScanRequestMessage, ScanRequestSink, SendResult } from "../../core/batchProcessor.ts";

/** `tracer` default: the global tracer (a no-op until a tracer provider is registered). */
export function serviceBusScanRequestSink(
  sender: ServiceBusSender,
  tracer: Tracer = trace.getTracer("ingest"),
): ScanRequestSink {
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
          // A new trace per request (one per image), linked to the Event Hubs batch it came from.
          const batchSpan = trace.getActiveSpan()?.spanContext();
          const span = tracer.startSpan("ingest send ScanRequested", {
            kind: SpanKind.PRODUCER,
            root: true,
            ...(batchSpan ? { links: [{ context: batchSpan }] } : {}),
            attributes: {
              "messaging.message.id": message.messageId,
              [IMAGE_ATTRIBUTE]: message.body.image.ref,
            },
          });
          const add = (into: ServiceBusMessageBatch) =>
            context.with(trace.setSpan(context.active(), span), () => into.tryAddMessage(outgoing));
          try {
            if (add(batch)) {
              inBatch.push(message.messageId);
              continue;
            }
            if (batch.count > 0) {
              await flush(batch);
              batch = await sender.createMessageBatch({ abortSignal });
              if (add(batch)) {
                inBatch.push(message.messageId);
                continue;
              }
            }
            // It does not fit even in an empty batch: it never will.
            rejected.add(message.messageId);
            span.setStatus({ code: SpanStatusCode.ERROR, message: "larger than a batch" });
          } finally {
            span.end();
          }
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
