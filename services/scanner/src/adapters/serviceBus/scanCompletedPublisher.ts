import type { ServiceBusSender } from "@azure/service-bus";
import { buildScanCompletedMessage, type ScanCompleted } from "@qcs/shared";
import type { ScanCompletedPublisher } from "../../core/ports.ts";

/** Sends ScanCompleted to the `scan-completed` topic (validated; messageId from `scanCompletedMessageId`). */
export class ServiceBusScanCompletedPublisher implements ScanCompletedPublisher {
  readonly #sender: ServiceBusSender;

  constructor(sender: ServiceBusSender) {
    this.#sender = sender;
  }

  async publish(scan: ScanCompleted, signal?: AbortSignal): Promise<void> {
    // Aborted with the scan (lock lost, shutdown deadline): a publish still queued in the SDK is
    // cancelled rather than sent late. One already on the wire is what the messageId absorbs.
    await this.#sender.sendMessages(buildScanCompletedMessage(scan), { abortSignal: signal });
  }
}
