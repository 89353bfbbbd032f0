/**
 * The emulator's configuration, in the format of Microsoft's Event Hubs emulator `Config.json`
 * (`UserConfig.NamespaceConfig[].Entities[]`), so one file serves both. Validated with the same
 * limits Microsoft's emulator applies; every problem names the field's path.
 */
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { type ConfigIssue, EmulatorConfigError, readConfigJson, zodConfigIssues } from "../configFile.ts";

/** The file this project ships: hub `activity-log`, 4 partitions, consumer group `ingest`. */
export const projectEventHubsConfigPath = fileURLToPath(
  new URL("../../config/eventhubs/Config.json", import.meta.url),
);

/** Microsoft's emulator accepts exactly this namespace name. */
export const EMULATOR_NAMESPACE = "emulatorNs1";
/** Every hub has it; configuration files may not declare it. */
export const DEFAULT_CONSUMER_GROUP = "$Default";

const MAX_HUBS = 10;
const MAX_PARTITIONS = 32;
const MAX_CONSUMER_GROUPS = 20;
// Event Hubs naming rules: letters, digits, '.', '-', '_'; starting and ending with a letter or digit.
const HUB_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,254}[A-Za-z0-9])?$/;
const CONSUMER_GROUP_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,48}[A-Za-z0-9])?$/;

const consumerGroupSchema = z.object({
  Name: z.string().superRefine((name, context) => {
    if (name.toLowerCase() === DEFAULT_CONSUMER_GROUP.toLowerCase()) {
      context.addIssue({
        code: "custom",
        message: `${DEFAULT_CONSUMER_GROUP} always exists and may not be declared`,
      });
    } else if (!CONSUMER_GROUP_NAME.test(name)) {
      context.addIssue({
        code: "custom",
        message: `must be 1-50 letters, digits, '.', '-' or '_', starting and ending alphanumeric (got ${JSON.stringify(name)})`,
      });
    }
  }),
});

const partitionCountSchema = z.union([z.string(), z.number()]).transform((value, context) => {
  const count = typeof value === "number" ? value : /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS) {
    context.addIssue({
      code: "custom",
      message: `must be a whole number from 1 to ${MAX_PARTITIONS} (got ${JSON.stringify(value)})`,
    });
    return z.NEVER;
  }
  return count;
});

/** Event Hubs names are case-insensitive: a second `Name` equal to an earlier one is an error. */
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

const entitySchema = z.object({
  Name: z
    .string()
    .regex(HUB_NAME, "must be 1-256 letters, digits, '.', '-' or '_', starting and ending alphanumeric"),
  PartitionCount: partitionCountSchema,
  ConsumerGroups: z
    .array(consumerGroupSchema)
    .min(1)
    .max(MAX_CONSUMER_GROUPS)
    .superRefine((groups, context) => rejectDuplicateNames(groups, context, "ConsumerGroups"))
    .optional(),
});

const configSchema = z.object({
  UserConfig: z.object({
    // Microsoft's emulator serves exactly one namespace.
    NamespaceConfig: z.tuple([
      z.object({
        Type: z.literal("EventHub"),
        Name: z.literal(EMULATOR_NAMESPACE),
        Entities: z
          .array(entitySchema)
          .min(1)
          .max(MAX_HUBS)
          .superRefine((entities, context) => rejectDuplicateNames(entities, context, "Entities")),
      }),
    ]),
    LoggingConfig: z.object({ Type: z.enum(["File", "Console", "File,Console", "Console,File"]) }),
  }),
});

/** Microsoft's `Config.json` shape (what the file holds). */
export interface EventHubsEmulatorConfig {
  UserConfig: {
    NamespaceConfig: Array<{
      Type: "EventHub";
      Name: string;
      Entities: Array<{
        Name: string;
        PartitionCount: string | number;
        ConsumerGroups?: Array<{ Name: string }>;
      }>;
    }>;
    LoggingConfig: { Type: string };
  };
}

export interface EventHubDefinition {
  name: string;
  /** "0" … "n-1". */
  partitionIds: readonly string[];
  /** Including `$Default`. */
  consumerGroups: readonly string[];
}

/** What the broker serves. Hub and consumer group names are case-insensitive, as in Event Hubs. */
export interface EventHubsTopology {
  namespace: string;
  hubs: readonly EventHubDefinition[];
}

export class EventHubsConfigError extends EmulatorConfigError {
  override readonly name = "EventHubsConfigError";
  readonly code = "EVENTHUBS_CONFIG_INVALID";
  constructor(source: string, issues: readonly ConfigIssue[]) {
    super("Event Hubs emulator", source, issues);
  }
}

/** Validates a parsed `Config.json`. `source` names it in errors (a path, or "inline"). */
export function parseEventHubsConfig(raw: unknown, source = "inline"): EventHubsTopology {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new EventHubsConfigError(source, zodConfigIssues(parsed.error));
  }
  const [namespace] = parsed.data.UserConfig.NamespaceConfig;
  return {
    namespace: namespace.Name,
    hubs: namespace.Entities.map((entity) => ({
      name: entity.Name,
      partitionIds: Array.from({ length: entity.PartitionCount }, (_, id) => String(id)),
      consumerGroups: [DEFAULT_CONSUMER_GROUP, ...(entity.ConsumerGroups ?? []).map((group) => group.Name)],
    })),
  };
}

/** Reads and validates a `Config.json` file. */
export async function loadEventHubsConfig(path: string): Promise<EventHubsTopology> {
  const raw = await readConfigJson(path, (issues) => new EventHubsConfigError(path, issues));
  return parseEventHubsConfig(raw, path);
}

/** A path, an already-parsed `Config.json`, or the project's file when omitted. */
export async function resolveEventHubsConfig(
  config: string | EventHubsEmulatorConfig | undefined,
): Promise<EventHubsTopology> {
  if (config === undefined) return loadEventHubsConfig(projectEventHubsConfigPath);
  if (typeof config === "string") return loadEventHubsConfig(config);
  return parseEventHubsConfig(config);
}
