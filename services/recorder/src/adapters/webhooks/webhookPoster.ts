/**
 * Posts one notification to one webhook over HTTP (Node's fetch): the body in the webhook's
 * format, `X-QCS-Signature: sha256=<hex HMAC-SHA256 of the raw body>` when a secret is set, a
 * timeout per request. Answers become {@link DeliveryResult}s; the receiver's body excerpt is
 * redacted and short, and no error text ever carries the URL (it holds the webhook's key).
 */
import { createHmac } from "node:crypto";
import { type Notification, redactSecrets, type Webhook } from "@qcs/shared";
import type { DeliveryResult } from "../../core/deliveryPolicy.ts";
import { webhookRequest } from "./webhookPayloads.ts";

export type { DeliveryResult };

export const SIGNATURE_HEADER = "x-qcs-signature";
const EXCERPT_LENGTH = 300;

export interface WebhookPosterOptions {
  source: string;
  secret?: string | undefined;
  timeoutMs: number;
  userAgent: string;
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function createWebhookPoster(options: WebhookPosterOptions) {
  return async (webhook: Webhook, notification: Notification): Promise<DeliveryResult> => {
    const request = webhookRequest(webhook.format, notification, options.source);
    const headers: Record<string, string> = {
      "content-type": request.contentType,
      "user-agent": options.userAgent,
    };
    if (options.secret !== undefined) headers[SIGNATURE_HEADER] = signature(options.secret, request.body);
    try {
      const response = await fetch(webhook.url, {
        method: "POST",
        headers,
        body: request.body,
        redirect: "error",
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const text = await response.text().catch(() => "");
      if (response.ok) return { kind: "delivered", status: response.status };
      return {
        kind: "rejected",
        status: response.status,
        retryAfter: response.headers.get("retry-after") ?? undefined,
        excerpt: excerpt(text),
      };
    } catch (error) {
      // fetch's messages name no URL, but its cause may: keep only the kind of failure.
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      const name = error instanceof Error ? error.name : "Error";
      return { kind: "unreachable", error: cause ?? (name === "TimeoutError" ? "timeout" : name) };
    }
  };
}

function excerpt(text: string): string {
  const redacted = redactSecrets(text.replace(/\s+/g, " ").trim());
  return redacted.length > EXCERPT_LENGTH ? `${redacted.slice(0, EXCERPT_LENGTH - 3)}...` : redacted;
}
