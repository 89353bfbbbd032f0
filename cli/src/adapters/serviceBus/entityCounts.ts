/**
 * Active, scheduled and dead-lettered counts from the entities' runtime properties. Only the
 * management API (ATOM over HTTPS, `ServiceBusAdministrationClient`) reports them; AMQP has no
 * such query. A development emulator serves that API over plain HTTP on its own port (Microsoft's
 * on 5300), which `developmentEmulatorPolicy` redirects the client to.
 */
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import type { ServiceBusAdministrationClient } from "@azure/service-bus";
import type { EntityCounts, EntityCountsReader } from "../../core/ports.ts";
import { translateServiceBusError } from "./errors.ts";

export interface CountedEntities {
  queue: string;
  topic: string;
  subscription: string;
}

export class ServiceBusEntityCounts implements EntityCountsReader {
  readonly #admin: ServiceBusAdministrationClient;
  readonly #entities: CountedEntities;

  constructor(admin: ServiceBusAdministrationClient, entities: CountedEntities) {
    this.#admin = admin;
    this.#entities = entities;
  }

  async counts(): Promise<EntityCounts[]> {
    const { queue, topic, subscription } = this.#entities;
    const [queueCounts, subscriptionCounts] = await Promise.all([
      this.#admin.getQueueRuntimeProperties(queue).catch((error: unknown) => {
        throw translateServiceBusError(adminError(error), queue);
      }),
      Promise.all([
        this.#admin.getSubscriptionRuntimeProperties(topic, subscription),
        this.#admin.getTopicRuntimeProperties(topic),
      ]).catch((error: unknown) => {
        throw translateServiceBusError(adminError(error), `${topic}/${subscription}`);
      }),
    ]);
    const [subscriptionProperties, topicProperties] = subscriptionCounts;
    return [
      {
        entity: queue,
        active: queueCounts.activeMessageCount,
        scheduled: queueCounts.scheduledMessageCount,
        deadLettered: queueCounts.deadLetterMessageCount,
      },
      {
        entity: `${topic}/${subscription}`,
        active: subscriptionProperties.activeMessageCount,
        // Scheduled messages wait in the topic, before any subscription sees them.
        scheduled: topicProperties.scheduledMessageCount,
        deadLettered: subscriptionProperties.deadLetterMessageCount,
      },
    ];
  }
}

/** Whether a Service Bus connection string points at a development emulator. */
export function isDevelopmentEmulator(connectionString: string): boolean {
  return /(^|;)\s*UseDevelopmentEmulator\s*=\s*true\s*(;|$)/i.test(connectionString);
}

/**
 * Sends the administration client's requests to an emulator's management port over plain HTTP
 * (the SDK always builds `https://<endpoint>/...`).
 */
export function developmentEmulatorPolicy(adminPort: number): PipelinePolicy {
  return {
    name: "scanctlDevelopmentEmulator",
    sendRequest(request, next) {
      const url = new URL(request.url);
      url.protocol = "http:";
      url.port = String(adminPort);
      request.url = url.toString();
      request.allowInsecureConnection = true;
      return next(request);
    },
  };
}

/** The HTTP client's errors say "RestError: ..." with the whole response; keep the status line. */
function adminError(error: unknown): unknown {
  if (error instanceof Error && "statusCode" in error && typeof error.statusCode === "number") {
    return new Error(`management API answered ${error.statusCode}: ${error.message.split("\n")[0]}`, {
      cause: error,
    });
  }
  return error;
}
