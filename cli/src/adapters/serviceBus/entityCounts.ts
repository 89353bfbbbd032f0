/**
 * Active, scheduled and dead-lettered counts from the entities' runtime properties. Only the
 * management API (ATOM over HTTPS, `ServiceBusAdministrationClient`) reports them; AMQP has no
 * such query. A development emulator serves that API over plain HTTP on its own port (Microsoft's
 * on 5300), which `developmentEmulatorPolicy` redirects the client to.
 */
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import type { ServiceBusAdministrationClient } from "@azure/service-bus";
import { CliError } from "../../core/cliError.ts";
import type { EntityCounts, EntityCountsReader } from "../../core/ports.ts";
import { errorSummary } from "../errorText.ts";

export interface CountedEntities {
  /** The request queues: deployment first, then sweep. */
  queues: readonly string[];
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
    const { queues, topic, subscription } = this.#entities;
    const [queueCounts, subscriptionCounts] = await Promise.all([
      Promise.all(
        queues.map((queue) =>
          this.#admin.getQueueRuntimeProperties(queue).catch((error: unknown) => {
            throw adminError(error, queue);
          }),
        ),
      ),
      Promise.all([
        this.#admin.getSubscriptionRuntimeProperties(topic, subscription),
        this.#admin.getTopicRuntimeProperties(topic),
      ]).catch((error: unknown) => {
        throw adminError(error, `${topic}/${subscription}`);
      }),
    ]);
    const [subscriptionProperties, topicProperties] = subscriptionCounts;
    return [
      ...queueCounts.map((counts, index) => ({
        entity: queues[index] ?? counts.name,
        active: counts.activeMessageCount,
        scheduled: counts.scheduledMessageCount,
        deadLettered: counts.deadLetterMessageCount,
      })),
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

/** Management API failures, as one line: the entity is missing, or the endpoint cannot be reached. */
function adminError(error: unknown, entity: string): CliError {
  const status = (error as { statusCode?: unknown }).statusCode;
  const code = (error as { code?: unknown }).code;
  const url = (error as { request?: { url?: string } }).request?.url;
  const endpoint = url === undefined ? "the Service Bus management API" : new URL(url).origin;
  if (status === 404 || code === "MessageEntityNotFoundError") {
    return new CliError("NOT_FOUND", `${entity} does not exist in this Service Bus namespace`, {
      cause: error,
    });
  }
  if (status === 401 || status === 403) {
    return new CliError(
      "UNAVAILABLE",
      `not authorized to read ${entity}'s runtime properties (${status}): reading counts needs the Manage right`,
      { cause: error },
    );
  }
  if (typeof status === "number") {
    return new CliError("UNAVAILABLE", `${endpoint} answered ${status} for ${entity}`, { cause: error });
  }
  const hint = endpoint.startsWith("http:")
    ? " (an emulator serves it on SERVICEBUS_EMULATOR_ADMIN_PORT)"
    : "";
  return new CliError(
    "UNAVAILABLE",
    `cannot reach ${endpoint} for ${entity}'s counts: ${typeof code === "string" ? code : errorSummary(error)}${hint}`,
    { cause: error },
  );
}
