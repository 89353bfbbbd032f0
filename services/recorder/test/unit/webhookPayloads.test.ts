// The three formats against their documented shapes: CloudEvents 1.0 (the SDK validates on
// construction), a Teams Workflows webhook message with one Adaptive Card (learn.microsoft.com,
// "Send Adaptive Cards using an Incoming Webhook"; Adaptive Card schema 1.4), and Slack incoming
// webhook blocks (api.slack.com/reference/block-kit/blocks: header plain_text <= 150, section
// text <= 3000, at most 10 fields of <= 2000, at most 50 blocks, `text` as the fallback).
import { FINDINGS_NEW, type Notification, SCAN_FAILED } from "@qcs/shared";
import { Ajv } from "ajv";
import { CloudEvent } from "cloudevents";
import { describe, expect, it } from "vitest";
import { webhookRequest } from "../../src/adapters/webhooks/webhookPayloads.ts";

const scanId = "0b7c2a64-1a35-4c55-9d2c-1e6f0f7d5a11";
const resources = [
  { resourceId: "/subscriptions/s/resourceGroups/rg/providers/x/containerGroups/ci-web", kind: "aci" },
];
const findings: Notification = {
  schemaVersion: 1,
  type: FINDINGS_NEW,
  data: {
    ref: "docker.io/library/nginx:1.27",
    digest: `sha256:${"ab".repeat(32)}`,
    registry: "docker.io",
    repository: "library/nginx",
    tag: "1.27",
    minSeverity: "high",
    vulnerabilities: { critical: 1, high: 2, medium: 3, low: 4 },
    previous: { vulnerabilities: { critical: 0, high: 1, medium: 0, low: 0 } },
    resources,
    scanId,
    scannedAt: "2025-03-14T09:10:00.000Z",
  },
};
const failed: Notification = {
  schemaVersion: 1,
  type: SCAN_FAILED,
  data: {
    ref: "ghcr.io/contoso/catalog:2.0.0",
    reason: "ImageNotFound",
    description: "x".repeat(5000),
    attempts: 1,
    resources,
    scanId,
    failedAt: "2025-03-14T09:10:00.000Z",
  },
};

const text = (max: number) => ({ type: "string", minLength: 1, maxLength: max });
const teamsSchema = {
  type: "object",
  required: ["type", "attachments"],
  properties: {
    type: { const: "message" },
    attachments: {
      type: "array",
      minItems: 1,
      maxItems: 1,
      items: {
        type: "object",
        required: ["contentType", "content"],
        properties: {
          contentType: { const: "application/vnd.microsoft.card.adaptive" },
          contentUrl: { type: "null" },
          content: {
            type: "object",
            required: ["type", "version", "body"],
            properties: {
              $schema: { const: "http://adaptivecards.io/schemas/adaptive-card.json" },
              type: { const: "AdaptiveCard" },
              version: { enum: ["1.0", "1.1", "1.2", "1.3", "1.4"] },
              body: {
                type: "array",
                minItems: 1,
                items: {
                  oneOf: [
                    {
                      type: "object",
                      required: ["type", "text"],
                      properties: { type: { const: "TextBlock" }, text: { type: "string" } },
                    },
                    {
                      type: "object",
                      required: ["type", "facts"],
                      properties: {
                        type: { const: "FactSet" },
                        facts: {
                          type: "array",
                          items: {
                            type: "object",
                            required: ["title", "value"],
                            additionalProperties: false,
                            properties: { title: { type: "string" }, value: { type: "string" } },
                          },
                        },
                      },
                    },
                  ],
                },
              },
            },
          },
        },
      },
    },
  },
};
const slackText = (max: number, kinds: string[]) => ({
  type: "object",
  required: ["type", "text"],
  additionalProperties: false,
  properties: { type: { enum: kinds }, text: text(max) },
});
const slackSchema = {
  type: "object",
  required: ["text", "blocks"],
  properties: {
    text: text(40_000),
    blocks: {
      type: "array",
      minItems: 1,
      maxItems: 50,
      items: {
        oneOf: [
          {
            type: "object",
            required: ["type", "text"],
            additionalProperties: false,
            properties: { type: { const: "header" }, text: slackText(150, ["plain_text"]) },
          },
          {
            type: "object",
            required: ["type"],
            anyOf: [{ required: ["text"] }, { required: ["fields"] }],
            additionalProperties: false,
            properties: {
              type: { const: "section" },
              text: slackText(3000, ["plain_text", "mrkdwn"]),
              fields: { type: "array", maxItems: 10, items: slackText(2000, ["plain_text", "mrkdwn"]) },
            },
          },
        ],
      },
    },
  },
};

const ajv = new Ajv({ allErrors: true, strict: false });
const validTeams = ajv.compile(teamsSchema);
const validSlack = ajv.compile(slackSchema);

describe("webhook payloads", () => {
  for (const notification of [findings, failed]) {
    it(`${notification.type}: a structured CloudEvent with a deterministic id and the configured source`, () => {
      const request = webhookRequest("cloudevents", notification, "/qcs/prod");
      expect(request.contentType).toMatch(/^application\/cloudevents\+json/);
      const event = new CloudEvent(JSON.parse(request.body)); // validates against the 1.0 spec
      expect(event).toMatchObject({
        specversion: "1.0",
        id: `${scanId}:${notification.type}`,
        type: notification.type,
        source: "/qcs/prod",
        subject: notification.data.ref,
        datacontenttype: "application/json",
        data: notification.data,
      });
    });

    it(`${notification.type}: a Teams message with one Adaptive Card`, () => {
      const request = webhookRequest("teams", notification, "/qcs");
      const body = JSON.parse(request.body);
      expect(validTeams(body), JSON.stringify(validTeams.errors)).toBe(true);
      expect(request.body).toContain(notification.data.ref);
    });

    it(`${notification.type}: Slack blocks inside Slack's limits`, () => {
      const request = webhookRequest("slack", notification, "/qcs");
      const body = JSON.parse(request.body);
      expect(validSlack(body), JSON.stringify(validSlack.errors)).toBe(true);
      expect(body.text).toContain(notification.data.ref);
    });
  }
});
