/** Sends `ScanRequested` messages built by the shared contracts (`scanctl rescan`). */
import type { ServiceBusSender } from "@azure/service-bus";
import type { OutgoingMessage, ScanRequested } from "@qcs/shared";
import type { ScanRequestSender } from "../../core/ports.ts";
import { translateServiceBusError } from "./errors.ts";

export class ServiceBusScanRequestSender implements ScanRequestSender {
  readonly #sender: ServiceBusSender;

  constructor(sender: ServiceBusSender) {
    this.#sender = sender;
  }

  async send(message: OutgoingMessage<ScanRequested>): Promise<void> {
    try {
      await this.#sender.sendMessages({
        body: message.body,
        messageId: message.messageId,
        subject: message.subject,
        contentType: message.contentType,
        applicationProperties: message.applicationProperties,
      });
    } catch (error) {
      throw translateServiceBusError(error, this.#sender.entityPath);
    }
  }
}
