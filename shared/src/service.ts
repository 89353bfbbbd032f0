/**
 * The one start-up path of every service: configuration → logger → telemetry → the service's own
 * wiring (clients, adapters, core) → health/readiness/metrics server → lifecycle → listen → start.
 * Each `main.ts` declares only what is its own (its config spec, its clients and core, its
 * readiness checks and routes), so the three composition roots have one shape.
 */
import type { TokenCredential } from "@azure/core-auth";
import type { FastifyInstance } from "fastify";
import type { z } from "zod";
import { type AzureIdentityConfig, createCredential } from "./azure/clients.ts";
import { type Env, isConfigError, loadServiceConfig, type ServiceConfigSpec } from "./config/load.ts";
import { createServiceServer, type ReadinessCheck } from "./http/serviceServer.ts";
import { ServiceLifecycle } from "./lifecycle.ts";
import { createLogger, type Logger } from "./logging.ts";
import type { LogFormat, LogLevel } from "./logLevels.ts";
import { startTelemetry, type Telemetry } from "./telemetry.ts";

/** What every service's configuration carries (see `commonConfig`). */
export interface CommonServiceConfig {
  logLevel: LogLevel;
  logFormat?: LogFormat | undefined;
  host: string;
  port: number;
  shutdownGraceMs: number;
  azure: AzureIdentityConfig;
}

export interface ServiceContext<TConfig> {
  config: Readonly<TConfig>;
  env: Env;
  logger: Logger;
  telemetry: Telemetry;
  /** Register clients to close here (`onClose`); they close after the service and its server. */
  lifecycle: ServiceLifecycle;
  /** The managed-identity credential, built on first use (a connection string needs none). */
  credential(): TokenCredential;
}

/** A service's own parts, returned by its `wire`. */
export interface ServiceParts {
  readiness: ReadinessCheck[];
  /** Further routes on the HTTP server (the recorder's API). */
  routes?: (server: FastifyInstance) => Promise<void> | void;
  /** Starts taking work once the server listens. */
  start(): void;
  /** Shutdown, step 1: take no new work. */
  stopIntake(): Promise<void> | void;
  /** Shutdown, step 2: let work in flight finish; give it back when `deadline` fires. */
  drain(deadline: AbortSignal): Promise<void> | void;
  /** Shutdown, step 3: release what the service holds (links, receivers). */
  close(): Promise<void> | void;
  /** Logged with "<name> ready". */
  details?: Record<string, unknown>;
}

export interface ServiceDefinition<TEnv extends z.ZodObject, TConfig extends CommonServiceConfig> {
  name: string;
  version: string;
  spec: ServiceConfigSpec<TEnv, TConfig>;
  wire(context: ServiceContext<TConfig>): Promise<ServiceParts>;
}

export interface StartServiceOptions {
  /** Default: `process.env`. */
  env?: Env;
  /** Shut down on SIGTERM/SIGINT and exit. Default: false (the caller calls `shutdown`). */
  handleSignals?: boolean;
}

export interface RunningService {
  /** Base URL of the HTTP server. */
  url: string;
  shutdown(): Promise<void>;
}

/** A start-up failure whose message says it all (no stack trace is printed). */
export class StartupError extends Error {
  override readonly name = "StartupError";
}

export async function startService<TEnv extends z.ZodObject, TConfig extends CommonServiceConfig>(
  definition: ServiceDefinition<TEnv, TConfig>,
  options: StartServiceOptions = {},
): Promise<RunningService> {
  const { name, version } = definition;
  const env = options.env ?? process.env;
  const { config, effective } = loadServiceConfig(definition.spec, env);
  const logger = createLogger({ name, level: config.logLevel, format: config.logFormat });
  logger.info({ config: effective, version }, "starting");

  const telemetry = startTelemetry({ serviceName: name, serviceVersion: version, env });
  const lifecycle = new ServiceLifecycle({ logger, graceMs: config.shutdownGraceMs });
  // A last export that fails loses telemetry, not work: a warning, not a failed exit.
  lifecycle.onClose(() =>
    telemetry
      .shutdown()
      .catch((error: unknown) => logger.warn({ err: error }, "telemetry: the last export failed")),
  );
  await telemetry.ready;
  let credential: TokenCredential | undefined;
  const parts = await definition.wire({
    config,
    env,
    logger,
    telemetry,
    lifecycle,
    credential: () => {
      credential ??= createCredential(config.azure);
      return credential;
    },
  });

  const server = createServiceServer({ logger, telemetry, lifecycle, readiness: parts.readiness });
  await parts.routes?.(server);
  lifecycle.onClose(() => server.close());
  lifecycle.onStopIntake(() => parts.stopIntake());
  lifecycle.onDrain((deadline) => parts.drain(deadline));
  lifecycle.onClose(() => parts.close());

  const url = await server.listen({ host: config.host, port: config.port });
  parts.start();
  if (options.handleSignals) lifecycle.handleSignals();
  logger.info({ url, port: Number(new URL(url).port), ...parts.details }, `${name} ready`);
  return { url, shutdown: () => lifecycle.shutdown("shutdown requested") };
}

/** A service, ready to start in this process (tests, benchmarks) or as the process (`main`). */
export interface DefinedService {
  start(options?: StartServiceOptions): Promise<RunningService>;
  /** The process entry: see {@link runServiceMain}. */
  main(help: string): void;
}

export function defineService<TEnv extends z.ZodObject, TConfig extends CommonServiceConfig>(
  definition: ServiceDefinition<TEnv, TConfig>,
): DefinedService {
  const start = (options: StartServiceOptions = {}) => startService(definition, options);
  return { start, main: (help) => runServiceMain(start, help) };
}

/**
 * The `if (import.meta.main)` body of a service: `--help` prints `help`; otherwise the service
 * starts and shuts down on SIGTERM. A configuration or start-up error is printed as its message
 * alone and exits 1.
 */
export function runServiceMain(
  start: (options: StartServiceOptions) => Promise<RunningService>,
  help: string,
) {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(help);
    return;
  }
  start({ handleSignals: true }).catch((error: unknown) => {
    const plain = isConfigError(error) || (error instanceof Error && error.name === "StartupError");
    console.error(plain ? (error as Error).message : error);
    process.exit(1);
  });
}
