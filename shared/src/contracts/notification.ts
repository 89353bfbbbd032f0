/**
 * The `Notification` message (queue `notifications`): what the recorder decided people should be
 * told, delivered to webhooks by the notifier apart from recording. Its messageId is the scan ID
 * plus the type, so a redelivered ScanCompleted that decides again is dropped by the queue's
 * duplicate detection, and receivers can drop repeats by the CloudEvents `id` (the same string).
 */
import { z } from "zod";
import { SEVERITIES } from "../config/notify.ts";
import { ContractError } from "./contractError.ts";
import { APP_PROPERTY, type IncomingMessage, JSON_CONTENT_TYPE, type OutgoingMessage } from "./messages.ts";

export const NOTIFICATION_SUBJECT = "Notification";
export const FINDINGS_NEW = "io.qcs.findings.new";
export const SCAN_FAILED = "io.qcs.scan.failed";
export const NOTIFICATION_TYPES = [FINDINGS_NEW, SCAN_FAILED] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

const isoTime = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative();
const Counts = z.object({ critical: count, high: count, medium: count, low: count });
export type NotifiedCounts = z.infer<typeof Counts>;

/** Where the image runs (from the request's sources until the inventory is read). */
const Resource = z.object({
  resourceId: z.string().min(1),
  kind: z.string().min(1),
  containerName: z.string().min(1).optional(),
});

export const FindingsNewData = z.object({
  ref: z.string().min(1),
  digest: z.string().min(1).optional(),
  registry: z.string().min(1),
  repository: z.string().min(1),
  tag: z.string().min(1).optional(),
  minSeverity: z.enum(SEVERITIES),
  vulnerabilities: Counts,
  previous: z.object({ digest: z.string().min(1).optional(), vulnerabilities: Counts }).optional(),
  resources: z.array(Resource),
  scanId: z.uuid(),
  scannedAt: isoTime,
});
export type FindingsNewData = z.infer<typeof FindingsNewData>;

export const ScanFailedData = z.object({
  ref: z.string().min(1),
  reason: z.string().min(1),
  description: z.string(),
  attempts: z.number().int().min(1),
  resources: z.array(Resource),
  scanId: z.uuid(),
  failedAt: isoTime,
});
export type ScanFailedData = z.infer<typeof ScanFailedData>;

export const NotificationV1 = z.discriminatedUnion("type", [
  z.object({ schemaVersion: z.literal(1), type: z.literal(FINDINGS_NEW), data: FindingsNewData }),
  z.object({ schemaVersion: z.literal(1), type: z.literal(SCAN_FAILED), data: ScanFailedData }),
]);
export type Notification = z.infer<typeof NotificationV1>;

/** Deterministic per scan outcome: the messageId and the CloudEvents `id`. */
export function notificationId(
  notification: Pick<Notification, "type"> & { data: { scanId: string } },
): string {
  return `${notification.data.scanId}:${notification.type}`;
}

/**
 * Set on a dead-lettered notification: the webhooks (by {@link webhookId}) that still have to get
 * it, so a resubmitted copy reaches only those. Absent: every configured webhook.
 */
export const NOTIFY_TARGETS_PROPERTY = "webhooks";

export function buildNotificationMessage(notification: Notification): OutgoingMessage<Notification> {
  const parsed = NotificationV1.safeParse(notification);
  if (!parsed.success) throw ContractError.fromZod("Notification", parsed.error);
  return {
    body: parsed.data,
    messageId: notificationId(parsed.data),
    subject: NOTIFICATION_SUBJECT,
    contentType: JSON_CONTENT_TYPE,
    applicationProperties: {
      [APP_PROPERTY.imageRef]: parsed.data.data.ref,
      [APP_PROPERTY.schemaVersion]: 1,
      type: parsed.data.type,
    },
  };
}

export function parseNotificationMessage(message: IncomingMessage): Notification {
  if (message.subject !== undefined && message.subject !== NOTIFICATION_SUBJECT) {
    throw new ContractError("Notification", [
      { field: "subject", message: `expected ${NOTIFICATION_SUBJECT}, got ${message.subject}` },
    ]);
  }
  let body = message.body;
  if (body instanceof Uint8Array || typeof body === "string") {
    try {
      body = JSON.parse(typeof body === "string" ? body : Buffer.from(body).toString("utf8"));
    } catch {
      throw new ContractError("Notification", [{ field: "(body)", message: "not valid JSON" }]);
    }
  }
  const parsed = NotificationV1.safeParse(body);
  if (!parsed.success) throw ContractError.fromZod("Notification", parsed.error);
  return parsed.data;
}
