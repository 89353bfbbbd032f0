/**
 * The read API on the service's fastify server (health and metrics stay on the same server,
 * open): latest state per image, one image with its history and where it runs, the timeline of
 * all scans, statistics, recent failures, and coverage of what runs. Inputs are validated by zod schemas, which also produce /api/openapi.json; every
 * error is `application/problem+json`.
 */
import fastifyRateLimit from "@fastify/rate-limit";
import fastifySwagger from "@fastify/swagger";
import {
  COVERAGE_STATES,
  CoverageSchema,
  FailuresSchema,
  HistoryPageSchema,
  ImageDetailSchema,
  LatestPageSchema,
  ProblemSchema,
  SCAN_STATUSES,
  SEVERITIES,
  StatsSchema,
  tryParseImageRef,
} from "@qcs/shared";
import type { FastifyError, FastifyInstance } from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import { z } from "zod";
import { coveragePage } from "../core/coverage.ts";
import type { CoverageReport } from "../core/coverageReport.ts";
import { failuresPage } from "../core/recentFailures.ts";
import { FAILURE_WINDOW_HOURS, RecorderQueries } from "../core/recorderQueries.ts";
import { decodeContinuation, encodeContinuation, type ScanRecordReader } from "../core/scanQueries.ts";
import { bearerKeyGuard } from "./auth.ts";
import { ApiProblem, problem, sendProblem } from "./problem.ts";
import {
  coverageView,
  failuresView,
  historyView,
  imageWorkloadView,
  latestView,
  statsView,
} from "./views.ts";

export interface ScanApiOptions {
  reader: ScanRecordReader;
  /** Bearer key for /api/*; undefined disables the data routes (503). */
  apiKey: string | undefined;
  /** Shown in the OpenAPI document. */
  version: string;
  /** Requests per minute per client address on /api/*, failed authentications included. */
  rateLimitPerMinute: number;
  /** /api/stats answers from a count at most this old (it reads the whole table). */
  statsCacheMs: number;
  /** /api/coverage, read from the tables at most once per its cache period. */
  coverage: CoverageReport;
  /** COVERAGE_CACHE_SECONDS, for the API's description. */
  coverageCacheSeconds: number;
  /** Shared with the status page, so both answer from one set of caches; built here when absent. */
  queries?: RecorderQueries;
}

const limit = (fallback: number) => z.coerce.number().int().min(1).max(500).default(fallback);
const errorResponses = {
  400: ProblemSchema,
  401: ProblemSchema,
  404: ProblemSchema,
  429: ProblemSchema,
  503: ProblemSchema,
};
const security = [{ apiKey: [] }];

const LatestCursorSchema = z.object({ table: z.string().min(1).max(2048) });
const HistoryCursorSchema = z.object({ after: z.string().min(1).max(2048) });
const CoverageCursorSchema = z.object({ ref: z.string().min(1).max(2048) });
const FailuresCursorSchema = z.object({ failure: z.string().min(1).max(2048) });

export async function registerScanApi(app: FastifyInstance, options: ScanApiOptions): Promise<void> {
  const { reader } = options;
  const queries =
    options.queries ??
    new RecorderQueries({
      ...options,
      onRefreshFailed: (error) =>
        app.log.warn({ err: error }, "reading statistics failed; the previous answers"),
    });
  await app.register(
    async (api) => {
      // An instance hook of this scope runs before the key check of the guarded routes below, so
      // guessing keys is as limited as everything else (route-level limits would run after it).
      await api.register(fastifyRateLimit, {
        global: false,
        errorResponseBuilder: (_request, context) =>
          new ApiProblem(429, `too many requests from this address: try again in ${context.after}`),
      });
      api.addHook("onRequest", api.rateLimit({ max: options.rateLimitPerMinute, timeWindow: 60_000 }));
      api.setValidatorCompiler(validatorCompiler);
      api.setSerializerCompiler(serializerCompiler);
      await api.register(fastifySwagger, {
        openapi: {
          info: {
            title: "Scan records API",
            version: options.version,
            description:
              "Scan metadata recorded from ScanCompleted results: latest state per image and history.",
          },
          components: {
            securitySchemes: { apiKey: { type: "http", scheme: "bearer", description: "RECORDER_API_KEY" } },
          },
        },
        transform: jsonSchemaTransform,
      });

      api.setErrorHandler((error: FastifyError, request, reply) => {
        if (hasZodFastifySchemaValidationErrors(error)) {
          const errors = error.validation.map((issue) => ({
            in: error.validationContext ?? "request",
            field: issue.instancePath.replace(/^\//, "").replaceAll("/", ".") || "(all)",
            message: issue.message ?? "invalid",
          }));
          return sendProblem(reply, problem(400, "the request has invalid parameters", errors));
        }
        if (error instanceof ApiProblem)
          return sendProblem(reply, problem(error.status, error.message, error.errors));
        // Only fastify's own client errors (a malformed body, a bad header) speak for themselves; any
        // other error, such as storage refusing the recorder, stays in the log.
        const clientError =
          error.code?.startsWith("FST_") === true && error.statusCode !== undefined && error.statusCode < 500;
        if (clientError) return sendProblem(reply, problem(error.statusCode as number, error.message));
        request.log.error({ err: error, url: request.url }, "API request failed");
        return sendProblem(reply, problem(500, "the request could not be answered"));
      });
      api.setNotFoundHandler((request, reply) =>
        sendProblem(reply, problem(404, `no route ${request.method} ${request.url}`)),
      );

      api.get("/openapi.json", { schema: { hide: true } }, async () => namedImagePath(api.swagger()));

      await api.register(async (guarded) => {
        guarded.addHook("onRequest", bearerKeyGuard(options.apiKey));
        const routes = guarded.withTypeProvider<ZodTypeProvider>();

        routes.get(
          "/scans",
          {
            schema: {
              summary: "Latest state per image, by registry and repository",
              description:
                "Pages come from storage in key order, so each costs one page of reads; a page may hold " +
                "fewer than `limit` items while `continuation` says more follow. Newest first: /api/history.",
              security,
              querystring: z.object({
                status: z.enum(SCAN_STATUSES).optional(),
                registry: z.string().min(1).max(255).optional(),
                since: z.iso.datetime({ offset: true }).optional(),
                limit: limit(50),
                continuation: z.string().max(4096).optional(),
              }),
              response: { 200: LatestPageSchema, ...errorResponses },
            },
          },
          async (request) => {
            const query = request.query;
            const after =
              query.continuation === undefined ? undefined : cursor(LatestCursorSchema, query.continuation);
            const page = await reader.list(
              {
                status: query.status,
                registry: query.registry?.toLowerCase(),
                since: query.since === undefined ? undefined : new Date(query.since),
              },
              { limit: query.limit, continuation: after?.table },
            );
            return {
              items: page.items.map(latestView),
              ...(page.continuation
                ? { continuation: encodeContinuation({ table: page.continuation }) }
                : {}),
            };
          },
        );

        routes.get(
          "/images/*",
          {
            schema: {
              summary: "One image: its latest state and its scan history, newest first",
              description:
                "The path after /api/images/ is an image reference, as deployed or canonical, e.g. " +
                "`nginx:1.27` or `myreg.azurecr.io/team/app@sha256:...` (slashes may stay unescaped).",
              security,
              params: z.object({ "*": z.string().min(1).max(1024) }),
              querystring: z.object({ limit: limit(20), continuation: z.string().max(4096).optional() }),
              response: { 200: ImageDetailSchema, ...errorResponses },
            },
          },
          async (request) => {
            const parsed = tryParseImageRef(request.params["*"]);
            if (!parsed.ok) {
              throw new ApiProblem(400, "not an image reference", [
                { in: "path", field: "ref", message: parsed.reason },
              ]);
            }
            const image = parsed.value;
            const after = historyAfter(request.query.continuation);
            const { latest, history, runs } = await queries.image(image, {
              limit: request.query.limit,
              after,
            });
            if (!latest && history.items.length === 0 && runs.length === 0 && after === undefined) {
              throw new ApiProblem(404, `no scan recorded for ${image.ref}`);
            }
            return {
              ref: image.ref,
              latest: latest ? latestView(latest) : null,
              history: historyPage(history),
              workloads: runs.map(imageWorkloadView),
            };
          },
        );

        routes.get(
          "/history",
          {
            schema: {
              summary: "Every recorded result, newest first",
              security,
              querystring: z.object({ limit: limit(50), continuation: z.string().max(4096).optional() }),
              response: { 200: HistoryPageSchema, ...errorResponses },
            },
          },
          async (request) =>
            historyPage(
              await reader.timeline({
                limit: request.query.limit,
                after: historyAfter(request.query.continuation),
              }),
            ),
        );

        routes.get(
          "/stats",
          {
            schema: {
              summary: "Images by status, findings by severity, time of the last scan",
              description:
                "Counted from the whole table at most once per RECORDER_STATS_CACHE_SECONDS (default 60); " +
                "`computedAt` says when.",
              security,
              response: { 200: StatsSchema, ...errorResponses },
            },
          },
          async () => {
            const { value, computedAt } = await queries.stats();
            return statsView(value, new Date(computedAt));
          },
        );

        routes.get(
          "/failures",
          {
            schema: {
              summary: `Failed scans of the last ${FAILURE_WINDOW_HOURS} h by reason, with each reason's remedy`,
              description:
                "The scanner publishes a failed result when it dead-letters a request, so these are the dead " +
                "letters of scan-requests as recorded (reasons the broker sets itself reach no result: " +
                "`scanctl dlq list`). Read from the timeline at most once per RECORDER_STATS_CACHE_SECONDS; " +
                "`reason` narrows the items only.",
              security,
              querystring: z.object({
                reason: z.string().min(1).max(128).optional(),
                limit: limit(50),
                continuation: z.string().max(4096).optional(),
              }),
              response: { 200: FailuresSchema, ...errorResponses },
            },
          },
          async (request) => {
            const query = request.query;
            const after =
              query.continuation === undefined
                ? undefined
                : cursor(FailuresCursorSchema, query.continuation).failure;
            const { value, computedAt } = await queries.failures();
            const page = failuresPage(value, { reason: query.reason, limit: query.limit, after });
            return failuresView(value, new Date(computedAt), {
              items: page.items,
              next: page.after === undefined ? undefined : encodeContinuation({ failure: page.after }),
            });
          },
        );

        routes.get(
          "/coverage",
          {
            schema: {
              summary: "Running images (Workloads) against their last scan and the coverage SLO",
              description:
                "`current`: a successful scan within COVERAGE_SLO_HOURS; `failing`: the latest outcome failed " +
                "(dead letters included) and no success within the SLO; `stale`: an older success; " +
                "`neverScanned`: nothing recorded. Read from the Workloads and ScanMetadata tables at most " +
                `once per COVERAGE_CACHE_SECONDS (${options.coverageCacheSeconds} s here; an expired reading answers ` +
                "while the next is read); `computedAt` says when the answer's reading was taken. " +
                "Totals cover every image of the `subscription` (all when absent); `state`, `registry` and " +
                "`minSeverity` (findings of the latest success at or above it) narrow the items only. " +
                "Items come in reference order.",
              security,
              querystring: z.object({
                state: z.enum(COVERAGE_STATES).optional(),
                subscription: z.string().min(1).max(64).optional(),
                registry: z.string().min(1).max(255).optional(),
                minSeverity: z.enum(SEVERITIES).optional(),
                limit: limit(100),
                continuation: z.string().max(4096).optional(),
              }),
              response: { 200: CoverageSchema, ...errorResponses },
            },
          },
          async (request) => {
            const query = request.query;
            const after =
              query.continuation === undefined
                ? undefined
                : cursor(CoverageCursorSchema, query.continuation).ref;
            const answer = await options.coverage.get(query.subscription);
            const page = coveragePage(answer.coverage, {
              state: query.state,
              registry: query.registry,
              minSeverity: query.minSeverity,
              limit: query.limit,
              after,
            });
            return coverageView(answer, options.coverage.sloHours, {
              items: page.items,
              matched: page.matched,
              next: page.after === undefined ? undefined : encodeContinuation({ ref: page.after }),
            });
          },
        );
      });
    },
    { prefix: "/api" },
  );
}

/**
 * The image route is a wildcard so references keep their slashes unescaped; the document names
 * its parameter `ref`, as clients know it.
 */
function namedImagePath(document: ReturnType<FastifyInstance["swagger"]>) {
  const copy = structuredClone(document) as { paths?: Record<string, unknown> };
  const paths = copy.paths ?? {};
  const wildcard = paths["/api/images/{*}"];
  if (wildcard === undefined) return copy;
  delete paths["/api/images/{*}"];
  paths["/api/images/{ref}"] = JSON.parse(
    JSON.stringify(wildcard).replace('"in":"path","name":"*"', '"in":"path","name":"ref"'),
  );
  return copy;
}

function cursor<T>(schema: z.ZodType<T>, token: string): T {
  const parsed = schema.safeParse(decodeContinuation(token));
  if (!parsed.success) {
    throw new ApiProblem(400, "invalid continuation token", [
      { in: "querystring", field: "continuation", message: "not a token this API issued" },
    ]);
  }
  return parsed.data;
}

function historyAfter(token: string | undefined): string | undefined {
  return token === undefined ? undefined : cursor(HistoryCursorSchema, token).after;
}

function historyPage(page: { items: Parameters<typeof historyView>[0][]; after?: string | undefined }) {
  return {
    items: page.items.map(historyView),
    ...(page.after === undefined ? {} : { continuation: encodeContinuation({ after: page.after }) }),
  };
}
