/**
 * The HTTP server every service runs: liveness, readiness that reflects the service's
 * dependencies, and Prometheus metrics. Services add their own routes (the recorder's API) to the
 * returned instance; only `main.ts` calls `listen`.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { ServiceLifecycle } from "../lifecycle.ts";
import { PROMETHEUS_CONTENT_TYPE, type Telemetry } from "../telemetry.ts";

export interface ReadinessCheck {
  /** Name of the dependency (`servicebus`, `storage`, ...). */
  name: string;
  /** Resolves true when the dependency is usable; false or a rejection means not ready. */
  check: () => Promise<boolean> | boolean;
}

export interface CreateServiceServerOptions {
  logger: Logger;
  telemetry: Pick<Telemetry, "renderMetrics">;
  readiness?: ReadinessCheck[];
  /** When given, readiness is false as soon as shutdown starts. */
  lifecycle?: Pick<ServiceLifecycle, "phase">;
  /** Default: 2000 ms. A readiness check slower than this counts as failed. */
  readinessTimeoutMs?: number;
}

export function createServiceServer(options: CreateServiceServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: "http" }) as FastifyBaseLogger,
    // Health probes and scrapes arrive every few seconds: no line per request.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const checks = options.readiness ?? [];
  const timeoutMs = options.readinessTimeoutMs ?? 2000;

  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const phase = options.lifecycle?.phase ?? "running";
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          return { name, ready: await withTimeout(Promise.resolve(check()), timeoutMs) };
        } catch {
          return { name, ready: false };
        }
      }),
    );
    const ready = phase === "running" && results.every((result) => result.ready);
    const dependencies = Object.fromEntries(
      results.map((result) => [result.name, result.ready ? "ok" : "failing"]),
    );
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not ready", phase, dependencies });
  });

  app.get("/metrics", async (_request, reply) => {
    const body = await options.telemetry.renderMetrics();
    return reply.type(PROMETHEUS_CONTENT_TYPE).send(body);
  });

  return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
