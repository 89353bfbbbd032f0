/**
 * The recorder's read API over HTTP (`fetch`), with the bearer key. Answers are validated with the
 * recorder's own response schemas; RFC
 * 9457 problem documents become one-line errors that quote the recorder's `detail`.
 */
import {
  CoverageSchema,
  HistoryPageSchema,
  ImageDetailSchema,
  LatestPageSchema,
  StatsSchema,
} from "@qcs/shared";
import type { z } from "zod";
import { CliError } from "../../core/cliError.ts";
import type { CoverageQuery, RecorderApi, ScanListQuery } from "../../core/ports.ts";

export interface HttpRecorderApiOptions {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  apiKey: string | undefined;
  /** Per request. Default: 15 s. */
  timeoutMs?: number;
}

export class HttpRecorderApi implements RecorderApi {
  readonly #base: URL;
  readonly #apiKey: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: HttpRecorderApiOptions) {
    this.#base = new URL(options.url.endsWith("/") ? options.url : `${options.url}/`);
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
  }

  async listScans(query: ScanListQuery) {
    const search = new URLSearchParams({ limit: String(query.limit) });
    if (query.status) search.set("status", query.status);
    if (query.registry) search.set("registry", query.registry);
    if (query.since) search.set("since", query.since);
    if (query.continuation) search.set("continuation", query.continuation);
    return this.#get(`api/scans?${search}`, LatestPageSchema);
  }

  async image(ref: string, options: { limit: number }) {
    // The route takes the reference as the rest of the path; `/` may stay, the rest is escaped.
    const path = ref.split("/").map(encodeURIComponent).join("/");
    try {
      return await this.#get(`api/images/${path}?limit=${options.limit}`, ImageDetailSchema);
    } catch (error) {
      if (error instanceof CliError && error.code === "NOT_FOUND") return undefined;
      throw error;
    }
  }

  async history(page: { limit: number; continuation?: string | undefined }) {
    const search = new URLSearchParams({ limit: String(page.limit) });
    if (page.continuation) search.set("continuation", page.continuation);
    return this.#get(`api/history?${search}`, HistoryPageSchema);
  }

  async stats() {
    return this.#get("api/stats", StatsSchema);
  }

  async coverage(query: CoverageQuery) {
    const search = new URLSearchParams({ limit: String(query.limit) });
    if (query.state) search.set("state", query.state);
    if (query.subscription) search.set("subscription", query.subscription);
    if (query.continuation) search.set("continuation", query.continuation);
    return this.#get(`api/coverage?${search}`, CoverageSchema);
  }

  async #get<T extends z.ZodType>(path: string, schema: T): Promise<z.infer<T>> {
    const url = new URL(path, this.#base);
    let response: Response;
    try {
      response = await fetch(url, {
        headers: {
          accept: "application/json",
          ...(this.#apiKey === undefined ? {} : { authorization: `Bearer ${this.#apiKey}` }),
        },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new CliError("UNAVAILABLE", `cannot reach the recorder at ${this.#base.origin} (${cause})`, {
        cause: error,
      });
    }
    const text = await response.text();
    if (!response.ok) {
      const hint = response.status === 401 ? " (set RECORDER_API_KEY to the recorder's key)" : "";
      throw new CliError(
        response.status === 404 ? "NOT_FOUND" : "UNAVAILABLE",
        `recorder answered ${response.status} for ${url.pathname}: ${problemDetail(text) ?? response.statusText}${hint}`,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new CliError("UNAVAILABLE", `recorder answered ${url.pathname} with something other than JSON`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      throw new CliError("UNAVAILABLE", `recorder's answer to ${url.pathname} is not in the expected shape`, {
        details: parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`),
      });
    }
    return parsed.data;
  }
}

function problemDetail(text: string): string | undefined {
  try {
    const problem = JSON.parse(text) as { detail?: unknown; title?: unknown };
    if (typeof problem.detail === "string") return problem.detail;
    if (typeof problem.title === "string") return problem.title;
  } catch {
    // not a problem document
  }
  return undefined;
}
