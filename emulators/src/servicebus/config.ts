/**
 * The broker's configuration, in the format of Microsoft's Service Bus emulator `Config.json`
 * (`UserConfig.Namespaces[].Queues[]`, `Topics[].Subscriptions[].Rules[]`), so one file serves
 * docker-compose and this broker. Every problem names the field's path. Durations may be as short as
 * tests need (`PT2S`); only Azure's maximums are enforced.
 */
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { type ConfigIssue, EmulatorConfigError, readConfigJson, zodConfigIssues } from "../configFile.ts";
import { parseDuration } from "./duration.ts";

/** The file this project ships: queues `scan-requests` and `scan-requests-sweep`, topic `scan-completed` with `recorder`. */
export const projectServiceBusConfigPath = fileURLToPath(
  new URL("../../config/servicebus/Config.json", import.meta.url),
);

/** Microsoft's emulator accepts exactly this namespace name. */
export const SERVICEBUS_NAMESPACE = "sbemulatorns";

const MAX_ENTITIES = 50;
const MAX_RULES = 1000;
const MAX_LOCK_DURATION_MS = 5 * 60_000;
const MAX_DUPLICATE_WINDOW_MS = 7 * 86_400_000;
const ENTITY_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,258}[A-Za-z0-9_])?$/;
const SUBSCRIPTION_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,48}[A-Za-z0-9_])?$/;

function duration(options: { max?: number; what?: string } = {}) {
  return z.string().transform((text, context) => {
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) {
      context.addIssue({
        code: "custom",
        message: `must be a positive ISO-8601 duration such as PT30S, PT1M or P1D (got ${JSON.stringify(text)})`,
      });
      return z.NEVER;
    }
    if (options.max !== undefined && ms > options.max) {
      context.addIssue({ code: "custom", message: `must not exceed ${options.what} (got ${text})` });
      return z.NEVER;
    }
    return ms;
  });
}

const lockDuration = duration({ max: MAX_LOCK_DURATION_MS, what: "PT5M, Azure's maximum" });
const duplicateWindow = duration({ max: MAX_DUPLICATE_WINDOW_MS, what: "P7D, Azure's maximum" });
const maxDeliveryCount = z.number().int().min(1).max(2000);
const forward = z.string().optional();
const noSessions = z
  .boolean()
  .refine((value) => !value, "sessions are not supported by this broker; use Microsoft's emulator")
  .optional();

const queueSchema = z.object({
  Name: z.string().regex(ENTITY_NAME, "must be 1-260 letters, digits, '.', '-', '_' or '/'"),
  Properties: z
    .object({
      DeadLetteringOnMessageExpiration: z.boolean().optional(),
      DefaultMessageTimeToLive: duration().optional(),
      DuplicateDetectionHistoryTimeWindow: duplicateWindow.optional(),
      ForwardDeadLetteredMessagesTo: forward,
      ForwardTo: forward,
      LockDuration: lockDuration.optional(),
      MaxDeliveryCount: maxDeliveryCount.optional(),
      RequiresDuplicateDetection: z.boolean().optional(),
      RequiresSession: noSessions,
    })
    .optional(),
});

const correlationFilterSchema = z.object({
  ContentType: z.string().optional(),
  CorrelationId: z.string().optional(),
  Label: z.string().optional(),
  MessageId: z.string().optional(),
  ReplyTo: z.string().optional(),
  ReplyToSessionId: z.string().optional(),
  SessionId: z.string().optional(),
  To: z.string().optional(),
  Properties: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

const TRUE_SQL = /^\s*(1\s*=\s*1|true)\s*$/i;
const FALSE_SQL = /^\s*(1\s*=\s*0|false)\s*$/i;

const ruleSchema = z.object({
  Name: z.string().min(1).max(50),
  Properties: z
    .object({
      FilterType: z.enum(["Correlation", "Sql"]),
      CorrelationFilter: correlationFilterSchema.optional(),
      SqlFilter: z
        .object({
          SqlExpression: z
            .string()
            .refine(
              (sql) => TRUE_SQL.test(sql) || FALSE_SQL.test(sql),
              "only the SQL filters 1=1 and 1=0 are supported by this broker; use a CorrelationFilter",
            ),
        })
        .optional(),
      Action: z
        .object({
          SqlExpression: z
            .string()
            .refine((sql) => sql.trim() === "", "rule actions are not supported by this broker"),
        })
        .optional(),
    })
    .superRefine((properties, context) => {
      if (properties.FilterType === "Correlation" && !properties.CorrelationFilter) {
        context.addIssue({
          code: "custom",
          path: ["CorrelationFilter"],
          message: "required when FilterType is Correlation",
        });
      }
      if (properties.FilterType === "Sql" && !properties.SqlFilter) {
        context.addIssue({ code: "custom", path: ["SqlFilter"], message: "required when FilterType is Sql" });
      }
    }),
});

const subscriptionSchema = z.object({
  Name: z.string().regex(SUBSCRIPTION_NAME, "must be 1-50 letters, digits, '.', '-' or '_'"),
  Properties: z
    .object({
      DeadLetteringOnMessageExpiration: z.boolean().optional(),
      DefaultMessageTimeToLive: duration().optional(),
      ForwardDeadLetteredMessagesTo: forward,
      ForwardTo: forward,
      LockDuration: lockDuration.optional(),
      MaxDeliveryCount: maxDeliveryCount.optional(),
      RequiresSession: noSessions,
    })
    .optional(),
  Rules: z
    .array(ruleSchema)
    .max(MAX_RULES)
    .superRefine((rules, context) => rejectDuplicateNames(rules, context, "Rules"))
    .optional(),
});

const topicSchema = z.object({
  Name: z.string().regex(ENTITY_NAME, "must be 1-260 letters, digits, '.', '-', '_' or '/'"),
  Properties: z
    .object({
      DefaultMessageTimeToLive: duration().optional(),
      DuplicateDetectionHistoryTimeWindow: duplicateWindow.optional(),
      RequiresDuplicateDetection: z.boolean().optional(),
    })
    .optional(),
  Subscriptions: z
    .array(subscriptionSchema)
    .max(MAX_ENTITIES)
    .superRefine((subscriptions, context) => rejectDuplicateNames(subscriptions, context, "Subscriptions"))
    .optional(),
});

const configSchema = z.object({
  UserConfig: z.object({
    // Microsoft's emulator serves exactly one namespace.
    Namespaces: z.tuple([
      z.object({
        Name: z.literal(SERVICEBUS_NAMESPACE),
        Queues: z.array(queueSchema).max(MAX_ENTITIES).optional(),
        Topics: z.array(topicSchema).max(MAX_ENTITIES).optional(),
      }),
    ]),
    Logging: z.object({ Type: z.string() }).optional(),
  }),
});

/** Microsoft's `Config.json` shape (what the file holds; durations are ISO-8601 text). */
export interface ServiceBusEmulatorConfig {
  UserConfig: {
    Namespaces: Array<{
      Name: string;
      Queues?: Array<{ Name: string; Properties?: QueueProperties }>;
      Topics?: Array<{
        Name: string;
        Properties?: {
          DefaultMessageTimeToLive?: string;
          DuplicateDetectionHistoryTimeWindow?: string;
          RequiresDuplicateDetection?: boolean;
        };
        Subscriptions?: Array<{
          Name: string;
          Properties?: Omit<
            QueueProperties,
            "DuplicateDetectionHistoryTimeWindow" | "RequiresDuplicateDetection"
          >;
          Rules?: ServiceBusRuleConfig[];
        }>;
      }>;
    }>;
    Logging?: { Type: string };
  };
}

interface QueueProperties {
  DeadLetteringOnMessageExpiration?: boolean;
  DefaultMessageTimeToLive?: string;
  DuplicateDetectionHistoryTimeWindow?: string;
  ForwardDeadLetteredMessagesTo?: string;
  ForwardTo?: string;
  LockDuration?: string;
  MaxDeliveryCount?: number;
  RequiresDuplicateDetection?: boolean;
  RequiresSession?: boolean;
}

/** One `Rules[]` entry of a subscription. */
export interface ServiceBusRuleConfig {
  Name: string;
  Properties: RuleProperties;
}

interface RuleProperties {
  FilterType: "Correlation" | "Sql";
  CorrelationFilter?: Partial<Record<CorrelationField, string>> & {
    Properties?: Record<string, string | number | boolean>;
  };
  SqlFilter?: { SqlExpression: string };
  Action?: { SqlExpression: string };
}

type CorrelationField =
  | "ContentType"
  | "CorrelationId"
  | "Label"
  | "MessageId"
  | "ReplyTo"
  | "ReplyToSessionId"
  | "SessionId"
  | "To";

/** Settings of an entity messages are received from (queue, subscription). */
export interface ReceivableSettings {
  lockDurationMs: number;
  maxDeliveryCount: number;
  defaultTtlMs: number;
  deadLetterOnExpiration: boolean;
  /** Entity name that takes this entity's messages instead of its own store. */
  forwardTo?: string;
  /** Entity name that takes dead-lettered messages instead of the dead-letter queue. */
  forwardDeadLetteredTo?: string;
}

export interface QueueDefinition extends ReceivableSettings {
  name: string;
  /** Undefined when duplicate detection is off. */
  duplicateWindowMs?: number;
}

export type SubscriptionFilter =
  | { type: "true" }
  | { type: "false" }
  | {
      type: "correlation";
      system: Partial<Record<CorrelationField, string>>;
      properties: Record<string, string | number | boolean>;
    };

export interface SubscriptionDefinition extends ReceivableSettings {
  name: string;
  /** A message is copied to the subscription when any rule matches; no rules means "match all". */
  rules: Array<{ name: string; filter: SubscriptionFilter }>;
}

export interface TopicDefinition {
  name: string;
  defaultTtlMs: number;
  duplicateWindowMs?: number;
  subscriptions: SubscriptionDefinition[];
}

export interface ServiceBusTopology {
  namespace: string;
  queues: QueueDefinition[];
  topics: TopicDefinition[];
}

export class ServiceBusConfigError extends EmulatorConfigError {
  override readonly name = "ServiceBusConfigError";
  readonly code = "SERVICEBUS_CONFIG_INVALID";
  constructor(source: string, issues: readonly ConfigIssue[]) {
    super("Service Bus emulator", source, issues);
  }
}

/** Microsoft's emulator defaults for omitted properties. */
const DEFAULTS = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 3,
  defaultTtlMs: 3_600_000,
  duplicateWindowMs: 20_000,
};

/** Validates a parsed `Config.json`. `source` names it in errors (a path, or "inline"). */
export function parseServiceBusConfig(raw: unknown, source = "inline"): ServiceBusTopology {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ServiceBusConfigError(source, zodConfigIssues(parsed.error));
  }
  const [namespace] = parsed.data.UserConfig.Namespaces;
  const queues = (namespace.Queues ?? []).map((queue): QueueDefinition => {
    const p = queue.Properties ?? {};
    return {
      name: queue.Name,
      ...receivable(p),
      duplicateWindowMs: p.RequiresDuplicateDetection
        ? (p.DuplicateDetectionHistoryTimeWindow ?? DEFAULTS.duplicateWindowMs)
        : undefined,
    };
  });
  const topics = (namespace.Topics ?? []).map((topic): TopicDefinition => {
    const p = topic.Properties ?? {};
    return {
      name: topic.Name,
      defaultTtlMs: p.DefaultMessageTimeToLive ?? DEFAULTS.defaultTtlMs,
      duplicateWindowMs: p.RequiresDuplicateDetection
        ? (p.DuplicateDetectionHistoryTimeWindow ?? DEFAULTS.duplicateWindowMs)
        : undefined,
      subscriptions: (topic.Subscriptions ?? []).map((subscription) => ({
        name: subscription.Name,
        ...receivable(subscription.Properties ?? {}),
        rules: (subscription.Rules ?? []).map((rule) => ({
          name: rule.Name,
          filter: filterOf(rule.Properties),
        })),
      })),
    };
  });
  checkNamespace(queues, topics, source);
  return { namespace: namespace.Name, queues, topics };
}

function receivable(p: {
  LockDuration?: number;
  MaxDeliveryCount?: number;
  DefaultMessageTimeToLive?: number;
  DeadLetteringOnMessageExpiration?: boolean;
  ForwardTo?: string;
  ForwardDeadLetteredMessagesTo?: string;
}): ReceivableSettings {
  return {
    lockDurationMs: p.LockDuration ?? DEFAULTS.lockDurationMs,
    maxDeliveryCount: p.MaxDeliveryCount ?? DEFAULTS.maxDeliveryCount,
    defaultTtlMs: p.DefaultMessageTimeToLive ?? DEFAULTS.defaultTtlMs,
    deadLetterOnExpiration: p.DeadLetteringOnMessageExpiration ?? false,
    forwardTo: p.ForwardTo || undefined,
    forwardDeadLetteredTo: p.ForwardDeadLetteredMessagesTo || undefined,
  };
}

function filterOf(properties: {
  FilterType: "Correlation" | "Sql";
  CorrelationFilter?: z.infer<typeof correlationFilterSchema>;
  SqlFilter?: { SqlExpression: string };
}): SubscriptionFilter {
  if (properties.FilterType === "Sql") {
    return TRUE_SQL.test(properties.SqlFilter?.SqlExpression ?? "") ? { type: "true" } : { type: "false" };
  }
  const { Properties, ...system } = properties.CorrelationFilter ?? {};
  const defined = Object.fromEntries(Object.entries(system).filter(([, value]) => value !== undefined));
  return { type: "correlation", system: defined, properties: Properties ?? {} };
}

/** Queues and topics share one case-insensitive name space; forwarding targets must exist. */
function checkNamespace(queues: QueueDefinition[], topics: TopicDefinition[], source: string): void {
  const issues: ConfigIssue[] = [];
  const base = "UserConfig.Namespaces[0]";
  const names = new Map<string, string>();
  const claim = (name: string, path: string) => {
    const earlier = names.get(name.toLowerCase());
    if (earlier)
      issues.push({ path: `${path}.Name`, message: `duplicates ${earlier} (names are case-insensitive)` });
    else names.set(name.toLowerCase(), path);
  };
  for (const [index, queue] of queues.entries()) claim(queue.name, `${base}.Queues[${index}]`);
  for (const [index, topic] of topics.entries()) claim(topic.name, `${base}.Topics[${index}]`);
  const checkTargets = (settings: ReceivableSettings, path: string) => {
    for (const [field, target] of [
      ["ForwardTo", settings.forwardTo],
      ["ForwardDeadLetteredMessagesTo", settings.forwardDeadLetteredTo],
    ] as const) {
      if (target && !names.has(target.toLowerCase())) {
        issues.push({
          path: `${path}.Properties.${field}`,
          message: `no queue or topic named ${JSON.stringify(target)}`,
        });
      }
    }
  };
  for (const [index, queue] of queues.entries()) checkTargets(queue, `${base}.Queues[${index}]`);
  for (const [t, topic] of topics.entries()) {
    for (const [s, subscription] of topic.subscriptions.entries()) {
      checkTargets(subscription, `${base}.Topics[${t}].Subscriptions[${s}]`);
    }
  }
  if (issues.length > 0) throw new ServiceBusConfigError(source, issues);
}

function rejectDuplicateNames(
  items: ReadonlyArray<{ Name: string }>,
  context: z.RefinementCtx,
  what: string,
) {
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const key = item.Name.toLowerCase();
    const earlier = seen.get(key);
    if (earlier === undefined) seen.set(key, index);
    else {
      context.addIssue({
        code: "custom",
        path: [index, "Name"],
        message: `duplicates ${what}[${earlier}] (${JSON.stringify(item.Name)}; names are case-insensitive)`,
      });
    }
  });
}

/** Reads and validates a `Config.json` file. */
export async function loadServiceBusConfig(path: string): Promise<ServiceBusTopology> {
  const raw = await readConfigJson(path, (issues) => new ServiceBusConfigError(path, issues));
  return parseServiceBusConfig(raw, path);
}

/** A path, an already-parsed `Config.json`, or the project's file when omitted. */
export async function resolveServiceBusConfig(
  config: string | ServiceBusEmulatorConfig | undefined,
): Promise<ServiceBusTopology> {
  if (config === undefined) return loadServiceBusConfig(projectServiceBusConfigPath);
  if (typeof config === "string") return loadServiceBusConfig(config);
  return parseServiceBusConfig(config);
}
