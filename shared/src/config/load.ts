/**
 * Configuration from environment variables: one zod schema per service keyed by variable name,
 * parsed once at start. Every problem is reported together (not only the first), secrets are
 * registered with the redactor before anything is logged, and the effective configuration can be
 * printed with secrets removed.
 */
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { REDACTED, type SecretRedactor, secretRedactor } from "../redact.ts";

export interface ConfigIssue {
  variable: string;
  message: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code = "CONFIG_INVALID";
  readonly service: string;
  readonly issues: readonly ConfigIssue[];
  constructor(service: string, issues: readonly ConfigIssue[]) {
    super(
      `invalid configuration for ${service} (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
        issues.map((issue) => `  - ${issue.variable}: ${issue.message}`).join("\n"),
    );
    this.service = service;
    this.issues = issues;
  }
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof Error && error.name === "ConfigError";
}

export type Env = Record<string, string | undefined>;

export interface ServiceConfigSpec<TEnv extends z.ZodObject, TConfig> {
  service: string;
  /** Keys are environment variable names; values carry the defaults and units. */
  env: TEnv;
  /** Variables whose values are secret. Each may also be given as `<NAME>_FILE` (a path to read). */
  secrets: ReadonlyArray<keyof z.infer<TEnv> & string>;
  /** Cross-field rules and the shape the service uses. Throw {@link ConfigError}-style issues via `issue`. */
  build: (env: z.infer<TEnv>, issue: (variable: string, message: string) => void) => TConfig;
}

export interface LoadedConfig<TConfig> {
  config: Readonly<TConfig>;
  /** Every variable the service reads with its effective value, secrets redacted: for the start-up log. */
  effective: Record<string, unknown>;
}

export function defineServiceConfig<TEnv extends z.ZodObject, TConfig>(
  spec: ServiceConfigSpec<TEnv, TConfig>,
): ServiceConfigSpec<TEnv, TConfig> {
  return spec;
}

/** The names of every variable a service reads (including `<SECRET>_FILE` forms). */
export function configVariables(spec: ServiceConfigSpec<z.ZodObject, unknown>): string[] {
  return [...Object.keys(spec.env.shape), ...spec.secrets.map((name) => `${name}_FILE`)].sort();
}

export function loadServiceConfig<TEnv extends z.ZodObject, TConfig>(
  spec: ServiceConfigSpec<TEnv, TConfig>,
  env: Env = process.env,
  redactor: SecretRedactor = secretRedactor,
): LoadedConfig<TConfig> {
  const issues: ConfigIssue[] = [];
  const resolved: Env = { ...env };
  for (const name of spec.secrets) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === "") continue;
    if (env[name] !== undefined && env[name] !== "") {
      issues.push({ variable: name, message: `set both ${name} and ${name}_FILE; use one` });
      continue;
    }
    try {
      resolved[name] = readFileSync(file, "utf8").trim();
    } catch (error) {
      issues.push({
        variable: `${name}_FILE`,
        message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`,
      });
    }
  }
  // An empty variable means "not set", as in most shells' `FOO= cmd`.
  const input = Object.fromEntries(
    Object.keys(spec.env.shape).map((name) => [name, resolved[name] === "" ? undefined : resolved[name]]),
  );
  for (const name of spec.secrets) redactor.addSecret(input[name]);

  const parsed = spec.env.safeParse(input);
  if (!parsed.success) {
    for (const problem of parsed.error.issues) {
      issues.push({ variable: String(problem.path[0] ?? "(environment)"), message: problem.message });
    }
    throw new ConfigError(spec.service, issues);
  }
  const config = spec.build(parsed.data, (variable, message) => issues.push({ variable, message }));
  if (issues.length > 0) throw new ConfigError(spec.service, issues);

  const secretNames = new Set<string>(spec.secrets);
  const effective = Object.fromEntries(
    Object.entries(parsed.data as Record<string, unknown>)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => [name, secretNames.has(name) ? REDACTED : redactValue(redactor, value)]),
  );
  return { config: deepFreeze(config), effective };
}

function redactValue(redactor: SecretRedactor, value: unknown): unknown {
  if (typeof value === "string") return redactor.redact(value);
  if (Array.isArray(value)) return value.map((item) => redactValue(redactor, item));
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
