/**
 * Notification settings shared by the recorder (decides and delivers) and scanctl (`notify test`):
 * the severity threshold and the webhook list. Webhook URLs carry their key (Teams, Slack), so they
 * are secrets: a parse problem names the position, never the URL.
 */
import { createHash } from "node:crypto";
import { z } from "zod";

export const SEVERITIES = ["critical", "high", "medium", "low"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const WEBHOOK_FORMATS = ["cloudevents", "teams", "slack"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export interface Webhook {
  format: WebhookFormat;
  url: string;
  /** Names the webhook in logs, metrics and dead letters without its URL. */
  id: string;
}

/** `format#` + 8 hex of the URL's SHA-256: stable across restarts, reveals nothing usable. */
export function webhookId(format: WebhookFormat, url: string): string {
  return `${format}#${createHash("sha256").update(url).digest("hex").slice(0, 8)}`;
}

/** `FORMAT=URL[,FORMAT=URL...]`; problems are reported by position. */
export function parseWebhooks(value: string | undefined, issue: (message: string) => void): Webhook[] {
  const webhooks: Webhook[] = [];
  const items = (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  items.forEach((item, index) => {
    const at = item.indexOf("=");
    const format = item.slice(0, Math.max(at, 0)).trim().toLowerCase();
    const url = item.slice(at + 1).trim();
    if (at < 0 || !(WEBHOOK_FORMATS as readonly string[]).includes(format)) {
      issue(`item ${index + 1}: expected FORMAT=URL with FORMAT one of ${WEBHOOK_FORMATS.join(", ")}`);
      return;
    }
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      issue(`item ${index + 1} (${format}): expected an http(s) URL`);
      return;
    }
    webhooks.push({ format: format as WebhookFormat, url, id: webhookId(format as WebhookFormat, url) });
  });
  return webhooks;
}

export const notifyEnv = {
  /** Comma-separated FORMAT=URL (cloudevents, teams, slack). Unset: nothing is delivered. */
  NOTIFY_WEBHOOKS: z.string().min(1).optional(),
  /** HMAC-SHA256 key: each request carries X-QCS-Signature: sha256=<hex of the raw body>. */
  NOTIFY_WEBHOOK_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  /** CloudEvents `source`: names this deployment. */
  NOTIFY_SOURCE: z.string().min(1).default("/qcs"),
};
