/**
 * The status page in a real browser (Debian's Chromium through playwright-core) against the
 * recorder's HTTP server on a socket, over Azurite with scans recorded as the recorder records
 * them: login and logout, every page's numbers equal to the API's, filters and paging, values from
 * messages rendered as text, and no console error, script error or CSP violation on any page.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CoverageSchema,
  FailuresSchema,
  ImageDetailSchema,
  parseImageRef,
  sweepMarkerEntity,
} from "@qcs/shared";
import { createLogger, createServiceServer, startTelemetry, type Telemetry } from "@qcs/shared/runtime";
import { type AzuriteAccount, sharedAzurite } from "@qcs/test-support/azurite";
import type { FastifyInstance } from "fastify";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TableScanRecords } from "../../src/adapters/tableStorage/tableScanRecords.ts";
import { registerScanApi } from "../../src/api/scanApi.ts";
import { RecorderQueries } from "../../src/core/recorderQueries.ts";
import { recordScan } from "../../src/core/recordScan.ts";
import { registerStatusPages } from "../../src/pages/statusPages.ts";
import { coverageReport, tableClient, tableNames, tableRecords, workloadRow } from "../support/azurite.ts";
import { completedScan, failedScan } from "../support/scans.ts";

const CHROMIUM = "/usr/bin/chromium";
const API_KEY = "status-page-test-key-0123456789abcdef";
const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), "../../../../.local/screenshots");
const SUB_A = "aaaaaaaa-0000-4000-8000-000000000001";
const SUB_B = "bbbbbbbb-0000-4000-8000-000000000002";
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

const CURRENT = "myreg.azurecr.io/team/current:1";
const STALE = "myreg.azurecr.io/team/stale:1";
const FAILING = "myreg.azurecr.io/team/failing:1";
const GONE = "ghcr.io/contoso/gone:1";
const NEVER = "docker.io/library/never:1";
const SCRIPT = "<script>alert(1)</script>";
const IMG = '"><img src=x onerror=alert(1)>';
const HOSTILE_MESSAGE = `registry said ${SCRIPT} and ${IMG}`;
const HOSTILE_WORKLOAD = "<img src=x onerror=alert(2)>";
const HOSTILE_CONTAINER = `"><script>alert(3)</script>`;

if (!existsSync(CHROMIUM)) {
  console.warn(`status page browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
}

// A test drives several pages; on 2 busy cores a browser's page load can take seconds.
describe.skipIf(!existsSync(CHROMIUM))("status page in Chromium", { timeout: 60_000 }, () => {
  let azurite: AzuriteAccount;
  let telemetry: Telemetry;
  let records: TableScanRecords;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let queries: RecorderQueries;

  const api = async <T>(path: string, schema: { parse(value: unknown): T }): Promise<T> => {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(response.status, path).toBe(200);
    return schema.parse(await response.json());
  };
  const texts = (selector: string) => page.locator(selector).allTextContents();
  /** Clicks a link and waits for the page it leads to (a click only starts the navigation). */
  const follow = async (selector: string) => {
    const before = page.url();
    await page.click(selector);
    await page.waitForURL((url) => url.href !== before);
  };
  let session: Awaited<ReturnType<BrowserContext["cookies"]>>;
  /** The session cookie of one login through the form (beforeAll), for the tests that need one. */
  const login = async () => {
    await context.addCookies(session);
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe("/");
  };
  const screenshot = async (name: string) => {
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    azurite = await sharedAzurite();
    telemetry = startTelemetry({ serviceName: "recorder-test", env: {} });
    const names = tableNames();
    ({ records } = await tableRecords(azurite.connectionString, names));
    for (const scan of [
      completedScan({ image: parseImageRef(CURRENT), finishedAt: hoursAgo(2) }),
      completedScan({
        image: parseImageRef(STALE),
        finishedAt: hoursAgo(48),
        vulnerabilities: { critical: 0, high: 0, medium: 2, low: 1, informational: 0, total: 3 },
      }),
      completedScan({ image: parseImageRef(FAILING), finishedAt: hoursAgo(72) }),
      failedScan({
        image: parseImageRef(FAILING),
        finishedAt: hoursAgo(1),
        error: { class: "RegistryAuthFailed", message: HOSTILE_MESSAGE },
      }),
      failedScan({
        image: parseImageRef(GONE),
        finishedAt: hoursAgo(3),
        error: { class: "ImageNotFound", message: "manifest unknown" },
      }),
      failedScan({
        image: parseImageRef(GONE),
        finishedAt: hoursAgo(30),
        error: { class: "ImageNotFound", message: "outside the window" },
      }),
    ]) {
      await recordScan(records, scan);
    }
    const workloads = tableClient(azurite.connectionString, names.workloads);
    await workloads.createTable();
    const hostile = workloadRow(SUB_B, "hostile", [FAILING]);
    hostile.Name = HOSTILE_WORKLOAD;
    hostile.Images = JSON.stringify([{ container: HOSTILE_CONTAINER, ref: FAILING, init: false }]);
    for (const row of [
      workloadRow(SUB_A, "one", [CURRENT, STALE]),
      workloadRow(SUB_A, "two", [CURRENT, FAILING]),
      workloadRow(SUB_B, "three", [CURRENT, NEVER, GONE]),
      hostile,
    ]) {
      await workloads.createEntity(row);
    }
    await workloads.upsertEntity(sweepMarkerEntity(new Date(Date.now() - 30 * 60_000)));

    const coverage = coverageReport(azurite.connectionString, records, { workloadsTable: names.workloads });
    queries = new RecorderQueries({
      reader: records,
      coverage,
      statsCacheMs: 0,
      onRefreshFailed: (error) => {
        throw error;
      },
    });
    app = createServiceServer({
      logger: createLogger({ name: "recorder-test", level: "silent" }),
      telemetry,
    });
    const shared = { apiKey: API_KEY, rateLimitPerMinute: 10_000 };
    await registerScanApi(app, {
      ...shared,
      reader: records,
      version: "test",
      statsCacheMs: 0,
      coverage,
      coverageCacheSeconds: 0,
      queries,
    });
    // Two rows a page, so five images make three pages.
    await registerStatusPages(app, { ...shared, queries, pageRows: 2 });
    base = await app.listen({ host: "127.0.0.1", port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    const first = await browser.newContext();
    const form = await first.newPage();
    await form.goto(`${base}/login`);
    await form.fill("#key", API_KEY);
    await form.click("button[type=submit]");
    await form.waitForURL(`${base}/`);
    session = await first.cookies();
    await first.close();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await telemetry?.shutdown();
    await azurite?.stop();
  });

  beforeEach(async () => {
    problems = [];
    context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    // The browser reports CSP violations as events in the page; make each one a console error.
    await context.addInitScript({
      content:
        'document.addEventListener("securitypolicyviolation", (event) => ' +
        'console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI));',
    });
    page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("dialog", (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on("response", (response) => {
      if (response.status() >= 500) problems.push(`${response.status()} ${response.url()}`);
    });
  });
  afterEach(async () => {
    await context.close();
    expect(problems).toEqual([]);
  });

  it("sends a visitor to the login, refuses a wrong key, and logs in and out with the recorder key", async () => {
    await page.goto(`${base}/images?state=failing`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.fill("#key", "not-the-key");
    const refused = page.waitForResponse((response) => response.request().method() === "POST");
    await page.click("button[type=submit]");
    expect((await refused).status()).toBe(401);
    await expect.poll(() => page.locator("[role=alert]").textContent()).toContain("not the recorder's key");
    // The failed attempt's 401 is the only console message, and it is expected.
    problems = problems.filter((text) => !text.includes("401"));

    await page.fill("#key", API_KEY);
    await page.click("button[type=submit]");
    await page.waitForURL(`${base}/images?state=failing`);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: "qcs_session", httpOnly: true, sameSite: "Strict", secure: false });
    expect(cookie?.value).not.toContain(API_KEY);
    expect(cookie?.expires).toBeGreaterThan(Date.now() / 1000);

    await follow(".logout button");
    expect(page.url()).toBe(`${base}/login`);
    expect(await context.cookies()).toEqual([]);
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
  });

  it("overview: coverage totals, vulnerable running images and failures by reason equal the API's", async () => {
    await login();
    const coverage = await api("/api/coverage?minSeverity=high", CoverageSchema);
    const failures = await api("/api/failures", FailuresSchema);
    const total = async (name: string) => Number(await page.locator(`[data-total=${name}]`).textContent());
    expect(await total("workloads")).toBe(coverage.totals.workloads);
    expect(await total("images")).toBe(coverage.totals.images);
    for (const state of ["current", "stale", "failing", "neverScanned"] as const) {
      expect(await total(state), state).toBe(coverage.totals[state]);
    }
    expect(coverage.totals).toMatchObject({ images: 5, current: 1, stale: 1, failing: 2, neverScanned: 1 });
    expect(await page.locator("[data-count=vulnerable]").textContent()).toBe(`${coverage.matched} images`);
    expect(
      (
        await page
          .locator("#vulnerable-table tbody tr")
          .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-ref")))
      ).sort(),
    ).toEqual(coverage.items.map((item) => item.ref).sort());
    const reasons = await page
      .locator("#failure-reasons tbody tr")
      .evaluateAll((rows) =>
        rows.map((row) => [
          row.getAttribute("data-reason"),
          ...[...row.querySelectorAll("td.num")].map((td) => Number(td.textContent)),
        ]),
      );
    expect(reasons).toEqual(failures.reasons.map((reason) => [reason.reason, reason.count, reason.images]));
    expect(reasons).toEqual([
      ["ImageNotFound", 1, 1],
      ["RegistryAuthFailed", 1, 1],
    ]);
    expect(await page.locator("[data-time=sweep]").textContent()).toBe("30 min ago");
    await screenshot("overview");
  });

  it("images: pages like /api/coverage, filters by registry and severity, and sorts a page", async () => {
    await login();
    const refsOnPage = () =>
      page
        .locator("#images-table tbody tr")
        .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-ref")));
    await page.goto(`${base}/images`);
    const all = await api("/api/coverage?limit=2", CoverageSchema);
    expect(await refsOnPage()).toEqual(all.items.map((item) => item.ref));
    expect(Number(await page.locator("[data-count=matched]").textContent())).toBe(all.matched);
    await screenshot("images");

    // Page through with the pager, as the API pages with its continuation.
    const second = await api(`/api/coverage?limit=2&continuation=${all.next}`, CoverageSchema);
    await follow("a[rel=next]");
    expect(await refsOnPage()).toEqual(second.items.map((item) => item.ref));
    const third = await api(`/api/coverage?limit=2&continuation=${second.next}`, CoverageSchema);
    await follow("a[rel=next]");
    expect(await refsOnPage()).toEqual(third.items.map((item) => item.ref));
    expect(third.next).toBeUndefined();
    expect(await page.locator("a[rel=next]").count()).toBe(0);

    // The filter form (without JavaScript: the next test).
    await page.goto(`${base}/images`);
    await page.fill("input[name=registry]", "MYREG.azurecr.io");
    await page.selectOption("select[name=minSeverity]", "medium");
    await page.click(".filters button[type=submit]");
    await page.waitForURL(/minSeverity=medium/);
    const filtered = await api(
      "/api/coverage?registry=myreg.azurecr.io&minSeverity=medium&limit=2",
      CoverageSchema,
    );
    expect(await refsOnPage()).toEqual(filtered.items.map((item) => item.ref));
    expect(filtered.matched).toBe(3);
    expect(Number(await page.locator("[data-count=matched]").textContent())).toBe(filtered.matched);

    // Sorting the page by critical findings, both ways.
    await page.goto(`${base}/images?minSeverity=low&registry=myreg.azurecr.io`);
    const critical = () => page.locator("#images-table tbody td[data-severity=critical]").allTextContents();
    await page.click("#images-table th:has-text('Critical')");
    const ascending = (await critical()).map(Number);
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await page.click("#images-table th:has-text('Critical')");
    const descending = (await critical()).map(Number);
    expect(descending).toEqual([...descending].sort((a, b) => b - a));
  });

  it("works without JavaScript: the filter form is plain HTML", async () => {
    const plain = await browser.newContext({ javaScriptEnabled: false });
    try {
      await plain.addCookies(session);
      const tab = await plain.newPage();
      await tab.goto(`${base}/images`);
      await tab.selectOption("select[name=state]", "failing");
      await tab.click(".filters button[type=submit]");
      await tab.waitForURL(/state=failing/);
      const refs = await tab
        .locator("#images-table tbody tr")
        .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-ref")));
      expect(refs).toEqual(
        (await api("/api/coverage?state=failing&limit=2", CoverageSchema)).items.map((i) => i.ref),
      );
    } finally {
      await plain.close();
    }
  });

  it("image: history, where it runs, the last failure with its remedy and commands, all as text", async () => {
    await login();
    await page.goto(`${base}/images/${FAILING}`);
    const detail = await api(`/api/images/${FAILING}?limit=2`, ImageDetailSchema);
    expect(await page.locator("#history-table tbody tr").count()).toBe(detail.history.items.length);
    expect(await page.locator("#runs-table tbody tr").count()).toBe(detail.workloads.length);
    expect(await page.locator("[data-latest=scanCount]").textContent()).toBe(
      String(detail.latest?.scanCount),
    );
    expect(await page.locator("[data-state]").textContent()).toBe("failing");

    // Values from messages and from the inventory are shown exactly, as text.
    expect(await page.locator("[data-failure=message]").textContent()).toBe(HOSTILE_MESSAGE);
    expect(await texts("#runs-table td")).toEqual(
      expect.arrayContaining([HOSTILE_WORKLOAD, HOSTILE_CONTAINER]),
    );
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator("main script").count()).toBe(0);

    expect(await page.locator(".failure .remedy").textContent()).toContain("AcrPull");
    expect(await page.locator("[data-command=rescan]").textContent()).toBe(
      `scanctl rescan --force ${FAILING}`,
    );
    expect(await page.locator(".failure [data-command=resubmit]").textContent()).toBe(
      "scanctl dlq resubmit --reason RegistryAuthFailed --registry myreg.azurecr.io",
    );
    await screenshot("image");

    await page.goto(`${base}/images/${NEVER}`);
    expect(await page.locator("[data-state]").textContent()).toBe("never scanned");
    const notAnImage = await page.goto(`${base}/images/Not..An..Image`);
    expect(notAnImage?.status()).toBe(400);
    problems = problems.filter((text) => !text.includes("400"));
  });

  it("failures: the window's failed scans by reason with remedies and commands, as /api/failures", async () => {
    await login();
    await page.goto(`${base}/failures`);
    const failures = await api("/api/failures", FailuresSchema);
    expect(failures.total).toBe(2);
    expect(Number(await page.locator("[data-count=failures]").textContent())).toBe(failures.total);
    const reasons = await page
      .locator("#reasons-table tbody tr")
      .evaluateAll((rows) =>
        rows.map((row) => [
          row.getAttribute("data-reason"),
          Number(row.querySelector("[data-count]")?.textContent),
        ]),
      );
    expect(reasons).toEqual(failures.reasons.map((reason) => [reason.reason, reason.count]));
    expect(await texts("#reasons-table [data-command=resubmit]")).toEqual([
      "scanctl dlq resubmit --reason ImageNotFound",
      "scanctl dlq resubmit --reason RegistryAuthFailed",
    ]);
    expect(await texts("#failures-table [data-error]")).toEqual(
      failures.items.map((item) => item.error?.message),
    );
    expect(await texts("#failures-table [data-error]")).toContain(HOSTILE_MESSAGE);
    expect(await page.locator("img").count()).toBe(0);
    await screenshot("failures");

    await page.click("#reasons-table a:has-text('ImageNotFound')");
    await page.waitForURL(/reason=ImageNotFound/);
    expect(await texts("#failures-table [data-error]")).toEqual(["manifest unknown"]);
  });

  it("sends a strict Content-Security-Policy and no-store on pages, and no page without a session", async () => {
    const response = await fetch(`${base}/login`);
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("cache-control")).toBe("no-store");
    for (const path of ["/", "/images", `/images/${CURRENT}`, "/failures"]) {
      const denied = await fetch(`${base}${path}`, { redirect: "manual" });
      expect(denied.status, path).toBe(303);
      expect(denied.headers.get("location")).toBe(`/login?next=${encodeURIComponent(path)}`);
    }
    // A forged cookie is no session.
    const forged = await fetch(`${base}/`, {
      redirect: "manual",
      headers: { cookie: `qcs_session=${Date.now() + 1e9}` },
    });
    expect(forged.status).toBe(303);
  });

  it("with Entra ID in front (RECORDER_PAGE_AUTH=entra), trusts the platform's principal header and sends others to its login", async () => {
    const entra = createServiceServer({
      logger: createLogger({ name: "recorder-test", level: "silent" }),
      telemetry,
    });
    await registerStatusPages(entra, { queries, apiKey: API_KEY, auth: "entra", rateLimitPerMinute: 10_000 });
    try {
      const anonymous = await entra.inject({ url: "/failures?reason=ImageNotFound" });
      expect(anonymous.statusCode).toBe(303);
      expect(anonymous.headers.location).toBe(
        `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent("/failures?reason=ImageNotFound")}`,
      );
      const signedIn = await entra.inject({ url: "/", headers: { "x-ms-client-principal-id": "0c1f5595" } });
      expect(signedIn.statusCode).toBe(200);
      expect(signedIn.body).toContain('data-total="images">5<');
      // The key login is not offered: the platform signs people in and out.
      const form = await entra.inject({ method: "POST", url: "/login", payload: { key: API_KEY } });
      expect(form.headers.location).toMatch(/^\/\.auth\/login\/aad/);
      expect((await entra.inject({ method: "POST", url: "/logout" })).headers.location).toMatch(
        /^\/\.auth\/logout/,
      );
    } finally {
      await entra.close();
    }
  });

  it("limits login attempts per client address, as the API limits requests", async () => {
    const limited = createServiceServer({
      logger: createLogger({ name: "recorder-test", level: "silent" }),
      telemetry,
    });
    await registerStatusPages(limited, { queries, apiKey: API_KEY, rateLimitPerMinute: 2 });
    try {
      const attempt = () => limited.inject({ method: "POST", url: "/login", payload: { key: "guess" } });
      expect((await attempt()).statusCode).toBe(401);
      expect((await attempt()).statusCode).toBe(401);
      const refused = await attempt();
      expect(refused.statusCode).toBe(429);
      expect(refused.headers["content-type"]).toContain("text/html");
    } finally {
      await limited.close();
    }
  });
});
