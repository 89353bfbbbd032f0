import type { ServiceBusSender } from "@azure/service-bus";
import { buildScanCompletedMessage, type ScanCompleted } from "@qcs/shared";
import type { ScanCompletedPublisher } from "../../core/ports.ts";

/** Sends ScanCompleted to the `scan-completed` topic (validated, messageId = scanId). */
export class ServiceBusScanCompletedPublisher implements ScanCompletedPublisher {
  readonly #sender: ServiceBusSender;

  constructor(sender: ServiceBusSender) {
    this.#sender = sender;
  }

  async publish(scan: ScanCompleted): Promise<void> {
    await this.#sender.sendMessages(buildScanCompletedMessage(scan));
  }
}
