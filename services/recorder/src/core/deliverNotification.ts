/**
 * The notifier's rules for one queued notification: post it to every webhook it is still due at
 * (all configured ones, or those a resubmitted dead letter names), each retried after the delivery
 * policy; complete when all took it, otherwise dead-letter it as `WebhookFailed` naming the
 * webhooks that did not (by ID, never URL) with each one's last answer, so a resubmitted copy
 * reaches only those. Runs on its own queue, so nothing here touches recording.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  type IncomingMessage,
  isContractError,
  type Logger,
  NOTIFY_TARGETS_PROPERTY,
  type Notification,
  parseNotificationMessage,
  redactSecrets,
  type Webhook,
} from "@qcs/shared";
import {
  type DeliveryPolicy,
  type DeliveryResult,
  decideDelivery,
  describeFailure,
} from "./deliveryPolicy.ts";

export const WEBHOOK_FAILED = "WebhookFailed";
export const INVALID_NOTIFICATION = "InvalidMessage";

export type NotificationSettlement =
  | { action: "complete"; delivered: number }
  | { action: "deadLetter"; reason: string; description: string; properties: Record<string, string> }
  | { action: "abandon" };

export type WebhookPoster = (webhook: Webhook, notification: Notification) => Promise<DeliveryResult>;

export interface NotificationHandlerOptions {
  webhooks: readonly Webhook[];
  post: WebhookPoster;
  policy: DeliveryPolicy;
  logger: Logger;
}

export function createNotificationHandler(options: NotificationHandlerOptions) {
  return async (
    message: IncomingMessage & { applicationProperties?: Record<string, unknown> | undefined },
    deadline: AbortSignal,
  ): Promise<NotificationSettlement> => {
    let notification: Notification;
    try {
      notification = parseNotificationMessage(message);
    } catch (error) {
      if (!isContractError(error)) throw error;
      return {
        action: "deadLetter",
        reason: INVALID_NOTIFICATION,
        description: cut(error.message),
        properties: {},
      };
    }
    const targets = dueWebhooks(options.webhooks, message.applicationProperties?.[NOTIFY_TARGETS_PROPERTY]);
    const failures: Array<[Webhook, string]> = [];
    await Promise.all(
      targets.map(async (webhook) => {
        const failure = await deliverWithRetries(options, webhook, notification, deadline);
        if (failure !== undefined && failure !== "aborted") failures.push([webhook, failure]);
      }),
    );
    if (deadline.aborted) return { action: "abandon" };
    if (failures.length === 0) return { action: "complete", delivered: targets.length };
    return {
      action: "deadLetter",
      reason: WEBHOOK_FAILED,
      description: cut(failures.map(([webhook, text]) => `${webhook.id}: ${text}`).join("; ")),
      properties: { [NOTIFY_TARGETS_PROPERTY]: failures.map(([webhook]) => webhook.id).join(",") },
    };
  };
}

/** Every configured webhook, or those named by a resubmitted dead letter that are still configured. */
export function dueWebhooks(webhooks: readonly Webhook[], named: unknown): readonly Webhook[] {
  if (typeof named !== "string" || named === "") return webhooks;
  const ids = new Set(named.split(","));
  return webhooks.filter((webhook) => ids.has(webhook.id));
}

/** Undefined once delivered; the last failure's text when the policy gives up. */
async function deliverWithRetries(
  options: NotificationHandlerOptions,
  webhook: Webhook,
  notification: Notification,
  deadline: AbortSignal,
): Promise<string | undefined | "aborted"> {
  for (let attempt = 1; ; attempt += 1) {
    const result = await options.post(webhook, notification);
    const decision = decideDelivery(result, attempt, options.policy, new Date());
    // "done" is decided for a delivery only; the second test tells the compiler.
    if (decision.kind === "done" || result.kind === "delivered") return undefined;
    const text = describeFailure(result);
    if (decision.kind === "give-up") {
      options.logger.warn(
        { webhook: webhook.id, attempt, failure: text },
        "webhook delivery failed: giving up",
      );
      return text;
    }
    options.logger.info(
      { webhook: webhook.id, attempt, failure: text, retryInMs: decision.delayMs },
      "webhook delivery failed: retrying",
    );
    await sleep(decision.delayMs, undefined, { signal: deadline }).catch(() => undefined);
    if (deadline.aborted) return "aborted";
  }
}

/** Redacted before it is shortened: a secret cut at the edge would no longer be recognised. */
function cut(text: string): string {
  const redacted = redactSecrets(text);
  return redacted.length > 1000 ? `${redacted.slice(0, 997)}...` : redacted;
}
