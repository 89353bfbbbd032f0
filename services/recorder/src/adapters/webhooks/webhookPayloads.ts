/**
 * A notification as each receiver expects it: a CloudEvents 1.0 structured event (the
 * `cloudevents` package builds and validates it), a Teams Workflows message with one Adaptive Card
 * attachment, or Slack incoming-webhook blocks. The CloudEvents `id` is deterministic (scan ID and
 * type), so a receiver can drop a repeat.
 */
import { type Notification, notificationId, SCAN_FAILED, type WebhookFormat } from "@qcs/shared";
import { CloudEvent, HTTP } from "cloudevents";

export interface WebhookRequest {
  body: string;
  contentType: string;
}

export function webhookRequest(
  format: WebhookFormat,
  notification: Notification,
  source: string,
): WebhookRequest {
  if (format === "cloudevents") {
    const event = new CloudEvent({
      id: notificationId(notification),
      type: notification.type,
      source,
      subject: notification.data.ref,
      time: notification.type === SCAN_FAILED ? notification.data.failedAt : notification.data.scannedAt,
      datacontenttype: "application/json",
      data: notification.data,
    });
    const message = HTTP.structured(event);
    return { body: String(message.body), contentType: "application/cloudevents+json; charset=utf-8" };
  }
  const summary = summarise(notification);
  const body = format === "teams" ? teamsMessage(summary) : slackMessage(summary);
  return { body: JSON.stringify(body), contentType: "application/json" };
}

interface Summary {
  title: string;
  text: string;
  facts: Array<[string, string]>;
}

function summarise(notification: Notification): Summary {
  if (notification.type === SCAN_FAILED) {
    const { data } = notification;
    return {
      title: `Scan failed: ${data.ref}`,
      text: `${data.reason}: ${data.description}`,
      facts: [
        ["Reason", data.reason],
        ["Attempts", String(data.attempts)],
        ["Runs in", resourcesText(data.resources)],
        ["Scan ID", data.scanId],
      ],
    };
  }
  const { data } = notification;
  const v = data.vulnerabilities;
  const before = data.previous
    ? `${data.previous.vulnerabilities.critical} critical, ${data.previous.vulnerabilities.high} high${data.previous.digest ? ` (${data.previous.digest})` : ""}`
    : "first scan with such findings";
  return {
    title: `New ${data.minSeverity}+ findings: ${data.ref}`,
    text: `${v.critical} critical, ${v.high} high, ${v.medium} medium, ${v.low} low`,
    facts: [
      ["Digest", data.digest ?? "unknown"],
      ["Before", before],
      ["Runs in", resourcesText(data.resources)],
      ["Scanned at", data.scannedAt],
    ],
  };
}

function resourcesText(resources: ReadonlyArray<{ resourceId: string }>): string {
  if (resources.length === 0) return "unknown";
  const names = resources.slice(0, 5).map((r) => r.resourceId.split("/").at(-1) ?? r.resourceId);
  return resources.length > 5 ? `${names.join(", ")} and ${resources.length - 5} more` : names.join(", ");
}

/** Teams Workflows "post to a channel when a webhook request is received": a message with an Adaptive Card. */
function teamsMessage(summary: Summary) {
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", text: summary.title, weight: "Bolder", size: "Medium", wrap: true },
            { type: "TextBlock", text: summary.text, wrap: true },
            { type: "FactSet", facts: summary.facts.map(([title, value]) => ({ title, value })) },
          ],
        },
      },
    ],
  };
}

/** Slack's limits: header text 150 characters, section text 3000, at most 10 fields of 2000. */
function slackMessage(summary: Summary) {
  return {
    text: cut(summary.title, 3000),
    blocks: [
      { type: "header", text: { type: "plain_text", text: cut(summary.title, 150) } },
      { type: "section", text: { type: "mrkdwn", text: cut(summary.text, 3000) } },
      {
        type: "section",
        fields: summary.facts
          .slice(0, 10)
          .map(([title, value]) => ({ type: "mrkdwn", text: cut(`*${title}*\n${value}`, 2000) })),
      },
    ],
  };
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
