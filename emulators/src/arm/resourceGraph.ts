/**
 * Resource Graph's `POST /providers/Microsoft.ResourceGraph/resources` over the ARM inventory,
 * without HTTP: validates the request, runs the query (see resourceGraphQuery.ts) over the rows of
 * the requested subscriptions and cuts one page. Rows look like Resource Graph's: `type` and
 * `resourceGroup` in lower case, whatever the casing of the ARM document.
 * Paging as documented for QueryRequestOptions: `$top` is the page size (Resource Graph's default
 * is 100, at most 1000), `$skip` the first row's offset; an answer that stops short of the last
 * row carries a `$skipToken` for the next one, unless `id` is not projected, in which case
 * Resource Graph cannot page and says `resultTruncated: "true"`.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { type ArmResource, addressOf } from "./inventory.ts";
import {
  type Condition,
  parseResourceGraphQuery,
  type QueryStep,
  RESOURCE_COLUMNS,
} from "./resourceGraphQuery.ts";

/** The api-versions of the resources operation that answer with `objectArray` by default. */
export const RESOURCE_GRAPH_API_VERSIONS: readonly string[] = ["2021-03-01", "2022-10-01", "2024-04-01"];

const DEFAULT_TOP = 100;
const MAX_TOP = 1000;

const QueryRequest = z.object({
  subscriptions: z.array(z.string()).optional(),
  managementGroups: z.array(z.string()).max(0, "management group scopes are not served here").optional(),
  query: z.string(),
  options: z
    .object({
      $top: z.number().int().min(1).max(MAX_TOP).optional(),
      $skip: z.number().int().min(0).optional(),
      $skipToken: z.string().optional(),
      resultFormat: z
        .literal("objectArray", { error: "only resultFormat objectArray is served here" })
        .optional(),
      allowPartialScopes: z.boolean().optional(),
      authorizationScopeFilter: z.string().optional(),
    })
    .optional(),
  facets: z.array(z.unknown()).max(0, "facets are not served here").optional(),
});

export interface ResourceGraphPage {
  totalRecords: number;
  count: number;
  resultTruncated: "true" | "false";
  $skipToken?: string;
  data: Record<string, unknown>[];
  facets: [];
}

export type ResourceGraphAnswer =
  | { ok: true; page: ResourceGraphPage }
  | { ok: false; code: "InvalidQuery" | "InvalidRequest" | "InvalidSkipToken"; message: string };

export interface ResourceGraphQueryOptions {
  /** The most rows one answer holds, whatever `$top` asks; small values make paging testable. Default: 1000. */
  maxPageSize?: number;
}

/** Answers one query request over `resources` (the whole inventory, all subscriptions). */
export function queryResourceGraph(
  resources: readonly ArmResource[],
  body: unknown,
  options: ResourceGraphQueryOptions = {},
): ResourceGraphAnswer {
  const request = QueryRequest.safeParse(body);
  if (!request.success) {
    const issue = request.error.issues[0];
    return {
      ok: false,
      code: "InvalidRequest",
      message: `${issue?.path.join(".") || "body"}: ${issue?.message}`,
    };
  }
  const { query, subscriptions = [], options: paging = {} } = request.data;
  const parsed = parseResourceGraphQuery(query);
  if (!parsed.ok) return { ok: false, code: "InvalidQuery", message: `Query is invalid: ${parsed.reason}.` };

  const scope = new Set(subscriptions.map((id) => id.toLowerCase()));
  const rows = resources
    .map(rowOf)
    .filter((row) => scope.size === 0 || scope.has(String(row.subscriptionId).toLowerCase()));
  const result = parsed.steps.reduce(applyStep, rows);

  const fingerprint = fingerprintOf(query, scope);
  let offset = paging.$skip ?? 0;
  if (paging.$skipToken !== undefined) {
    const token = readSkipToken(paging.$skipToken, fingerprint);
    if (token === undefined) {
      return { ok: false, code: "InvalidSkipToken", message: "The $skipToken is invalid for this query." };
    }
    offset = paging.$skip ?? token;
  }
  const size = Math.min(paging.$top ?? DEFAULT_TOP, options.maxPageSize ?? MAX_TOP);
  const data = result.slice(offset, offset + size);
  const more = offset + data.length < result.length;
  const canPage = parsed.steps.every((step) => step.kind !== "project" || step.columns.includes("id"));
  return {
    ok: true,
    page: {
      totalRecords: result.length,
      count: data.length,
      resultTruncated: more && !canPage ? "true" : "false",
      ...(more && canPage ? { $skipToken: skipToken(offset + data.length, fingerprint) } : {}),
      data,
      facets: [],
    },
  };
}

function rowOf(resource: ArmResource): Record<string, unknown> {
  const address = addressOf(resource.id);
  const row: Record<string, unknown> = {};
  for (const column of RESOURCE_COLUMNS) row[column] = resource[column] ?? null;
  return {
    ...row,
    type: address?.type ?? null,
    resourceGroup: address?.resourceGroup.toLowerCase() ?? null,
    subscriptionId: address?.subscriptionId ?? null,
  };
}

function applyStep(rows: Record<string, unknown>[], step: QueryStep): Record<string, unknown>[] {
  if (step.kind === "where") {
    return rows.filter((row) => step.conditions.every((condition) => matches(row, condition)));
  }
  return rows.map((row) => Object.fromEntries(step.columns.map((column) => [column, row[column]])));
}

function matches(row: Record<string, unknown>, { column, values, caseInsensitive }: Condition): boolean {
  const value = row[column];
  if (typeof value !== "string") return false;
  const fold = (text: string) => (caseInsensitive ? text.toLowerCase() : text);
  return values.some((candidate) => fold(candidate) === fold(value));
}

/** Ties a token to its query and scope, so a token is not replayed against another query. */
function fingerprintOf(query: string, scope: ReadonlySet<string>): string {
  return createHash("sha256")
    .update(JSON.stringify([query, [...scope].sort()]))
    .digest("base64url")
    .slice(0, 16);
}

function skipToken(offset: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ offset, fingerprint })).toString("base64url");
}

function readSkipToken(token: string, fingerprint: string): number | undefined {
  try {
    const decoded = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    const { offset, fingerprint: seen } = (decoded ?? {}) as { offset?: unknown; fingerprint?: unknown };
    return seen === fingerprint && Number.isSafeInteger(offset) && (offset as number) >= 0
      ? (offset as number)
      : undefined;
  } catch {
    return undefined;
  }
}
