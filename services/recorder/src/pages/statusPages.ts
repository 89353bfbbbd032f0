/**
 * The status page: server-rendered HTML for people (overview, images, one image, failures) on the
 * recorder's server, behind a key login (or Container Apps' built-in authentication in front of it).
 * Every number comes from {@link RecorderQueries} and the coverage reading, as the API's do. Eta
 * escapes every value; helmet sends a Content-Security-Policy that allows no inline script or style.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import fastifyHelmet from "@fastify/helmet";
import fastifyRateLimit from "@fastify/rate-limit";
import fastifyView from "@fastify/view";
import { COVERAGE_STATES, SEVERITIES, tryParseImageRef } from "@qcs/shared";
import { Eta } from "eta";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { coveragePage, findingsAtOrAbove } from "../core/coverage.ts";
import { failuresPage } from "../core/recentFailures.ts";
import { FAILURE_WINDOW_HOURS, type RecorderQueries } from "../core/recorderQueries.ts";
import { failuresModel, imageModel, imagesModel, overviewModel } from "./models.ts";
import { endSession, hasSession, keyMatches, safeNext, sessionSecret, startSession } from "./session.ts";

export interface StatusPagesOptions {
  queries: RecorderQueries;
  /** The recorder key; undefined disables the key login (503), as it disables the API. */
  apiKey: string | undefined;
  /**
   * `key`: the login form takes the recorder key. `entra`: Container Apps' built-in authentication
   * signs people in before a request reaches the recorder and names them in a header it sets
   * itself. Default: `key`.
   */
  auth?: "key" | "entra";
  /** Login attempts per minute per client address. */
  rateLimitPerMinute: number;
  /** Rows per page of the images and failures lists. Default: {@link PAGE_ROWS}. */
  pageRows?: number;
  now?: () => number;
}

/** Rows per page of the images and failures lists. */
export const PAGE_ROWS = 50;

const here = dirname(fileURLToPath(import.meta.url));
const STATIC_FILES = {
  "app.css": { type: "text/css; charset=utf-8", body: readFileSync(join(here, "static", "app.css")) },
  "app.js": { type: "text/javascript; charset=utf-8", body: readFileSync(join(here, "static", "app.js")) },
} as const;

// Bad filter values are dropped, not refused: a hand-edited URL still shows a page.
const ImagesQuery = z.object({
  state: z.enum(COVERAGE_STATES).optional().catch(undefined),
  registry: z.string().min(1).max(255).optional().catch(undefined),
  minSeverity: z.enum(SEVERITIES).optional().catch(undefined),
  after: z.string().min(1).max(2048).optional().catch(undefined),
});
const FailuresQuery = z.object({
  reason: z.string().min(1).max(128).optional().catch(undefined),
  after: z.string().min(1).max(2048).optional().catch(undefined),
});
const LoginBody = z.object({ key: z.string().max(4096).optional(), next: z.string().max(4096).optional() });

/** Container Apps' authentication endpoints (served in front of the app, never by it). */
const entraLogin = (next: string) => `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(next)}`;
const ENTRA_LOGOUT = "/.auth/logout?post_logout_redirect_uri=%2F";

/** The platform sets this header for a signed-in person and drops any copy a client sends. */
function signedInWithEntra(request: FastifyRequest): boolean {
  const principal = request.headers["x-ms-client-principal-id"];
  return typeof principal === "string" && principal.length > 0;
}

export async function registerStatusPages(app: FastifyInstance, options: StatusPagesOptions): Promise<void> {
  const { queries, apiKey } = options;
  const now = options.now ?? Date.now;
  const pageRows = options.pageRows ?? PAGE_ROWS;
  const entra = options.auth === "entra";
  await app.register(async (pages) => {
    await pages.register(fastifyHelmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
    });
    // A random secret when no key is set: the page is disabled then, and nothing is signed.
    await pages.register(fastifyCookie, {
      secret: apiKey === undefined ? randomBytes(32) : sessionSecret(apiKey),
      algorithm: "sha256",
    });
    await pages.register(fastifyFormbody, { bodyLimit: 8192 });
    await pages.register(fastifyRateLimit, { global: false });
    await pages.register(fastifyView, {
      engine: { eta: new Eta({ cache: true }) },
      templates: join(here, "templates"),
      production: true,
    });
    const render = (reply: FastifyReply, status: number, template: string, model: object) =>
      reply.code(status).header("cache-control", "no-store").view(template, model);
    const message = (reply: FastifyReply, status: number, title: string, text: string) =>
      render(reply, status, "message", { title, text, signedIn: false });

    pages.setErrorHandler((error: FastifyError, request, reply) => {
      // A client's own mistake (a malformed form, too many login attempts) speaks for itself.
      const status = error.statusCode !== undefined && error.statusCode < 500 ? error.statusCode : 500;
      if (status < 500) return message(reply, status, "Request refused", error.message);
      request.log.error({ err: error, url: request.url }, "status page failed");
      return message(
        reply,
        500,
        "Something went wrong",
        "The page could not be answered; the recorder's log says why.",
      );
    });

    for (const [name, file] of Object.entries(STATIC_FILES)) {
      pages.get(`/static/${name}`, async (_request, reply) =>
        reply.type(file.type).header("cache-control", "public, max-age=300").send(file.body),
      );
    }

    // Browsers ask for it on every site; there is none.
    pages.get("/favicon.ico", async (_request, reply) => reply.code(204).send());
    pages.get("/login", async (request, reply) => {
      const next = safeNext((request.query as { next?: unknown }).next);
      if (entra) return reply.redirect(entraLogin(next), 303);
      if (apiKey !== undefined && hasSession(request, now())) return reply.redirect(next, 303);
      return render(reply, 200, "login", { next, failed: false, signedIn: false });
    });
    pages.post(
      "/login",
      { onRequest: pages.rateLimit({ max: options.rateLimitPerMinute, timeWindow: 60_000 }) },
      async (request, reply) => {
        const body = LoginBody.safeParse(request.body);
        const next = safeNext(body.success ? body.data.next : undefined);
        if (entra) return reply.redirect(entraLogin(next), 303);
        if (apiKey === undefined) return disabled(reply);
        if (!body.success || !keyMatches(apiKey, body.data.key)) {
          return render(reply, 401, "login", { next, failed: true, signedIn: false });
        }
        startSession(request, reply, now());
        return reply.redirect(next, 303);
      },
    );
    pages.post("/logout", async (request, reply) => {
      if (entra) return reply.redirect(ENTRA_LOGOUT, 303);
      endSession(request, reply);
      return reply.redirect("/login", 303);
    });

    const disabled = (reply: FastifyReply) =>
      message(
        reply,
        503,
        "Status page disabled",
        "RECORDER_API_KEY is not configured: the page and the API are off.",
      );

    await pages.register(async (guarded) => {
      guarded.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
        if (entra) {
          if (signedInWithEntra(request)) return;
          return reply.redirect(entraLogin(request.url), 303);
        }
        if (apiKey === undefined) return disabled(reply);
        if (!hasSession(request, now()))
          return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
      });

      guarded.get("/", async (_request, reply) => {
        const [coverage, failures, stats] = await Promise.all([
          queries.coverage.get(),
          queries.failures(),
          queries.stats(),
        ]);
        const vulnerable = coveragePage(coverage.coverage, {
          minSeverity: "high",
          limit: Number.MAX_SAFE_INTEGER,
        });
        const worst = [...vulnerable.items]
          .sort(
            (a, b) =>
              findingsAtOrAbove(b, "critical") - findingsAtOrAbove(a, "critical") ||
              findingsAtOrAbove(b, "high") - findingsAtOrAbove(a, "high"),
          )
          .slice(0, 10);
        return render(
          reply,
          200,
          "overview",
          overviewModel({
            coverage,
            sloHours: queries.coverage.sloHours,
            vulnerable: { items: worst, matched: vulnerable.matched },
            failures: failures.value,
            lastScanAt: stats.value.lastScanAt,
            now: now(),
            windowHours: FAILURE_WINDOW_HOURS,
          }),
        );
      });

      guarded.get("/images", async (request, reply) => {
        const query = ImagesQuery.parse(request.query ?? {});
        const coverage = await queries.coverage.get();
        const page = coveragePage(coverage.coverage, { ...query, limit: pageRows });
        return render(reply, 200, "images", imagesModel({ coverage, query, page, now: now() }));
      });

      guarded.get("/images/*", async (request, reply) => {
        // Already decoded by the router, as for /api/images/*.
        const raw = (request.params as { "*": string })["*"];
        const parsed = tryParseImageRef(raw);
        if (!parsed.ok) return message(reply, 400, "Not an image reference", `${raw}: ${parsed.reason}`);
        const image = parsed.value;
        const [detail, coverage] = await Promise.all([
          queries.image(image, { limit: pageRows }),
          queries.coverage.get(),
        ]);
        if (detail.latest === undefined && detail.history.items.length === 0 && detail.runs.length === 0) {
          return message(
            reply,
            404,
            "No such image",
            `Nothing is recorded for ${image.ref} and nothing runs it.`,
          );
        }
        const state = coverage.coverage.images.find((item) => item.ref === image.ref)?.state;
        return render(reply, 200, "image", imageModel({ image, detail, state, now: now() }));
      });

      guarded.get("/failures", async (request, reply) => {
        const query = FailuresQuery.parse(request.query ?? {});
        const { value } = await queries.failures();
        const page = failuresPage(value, { ...query, limit: pageRows });
        return render(
          reply,
          200,
          "failures",
          failuresModel({ failures: value, query, page, now: now(), windowHours: FAILURE_WINDOW_HOURS }),
        );
      });
    });
  });
}
