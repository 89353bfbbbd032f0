import { describe, expect, it } from "vitest";
import type { ArmResource } from "../../src/arm/inventory.ts";
import { queryResourceGraph } from "../../src/arm/resourceGraph.ts";

const jobs: ArmResource[] = ["a", "b", "c", "d", "e"].map((name) => ({
  id: `/subscriptions/s1/resourceGroups/RG/providers/Microsoft.App/jobs/${name}`,
  name,
}));
const QUERY = "Resources | where type =~ 'microsoft.app/jobs' | project id, name";
const names = (answer: ReturnType<typeof queryResourceGraph>) =>
  answer.ok ? answer.page.data.map((row) => row.name) : answer;

describe("Resource Graph paging over the inventory", () => {
  it("starts at $skip, and $skip overrides the offset a $skipToken carries", () => {
    expect(names(queryResourceGraph(jobs, { query: QUERY, options: { $skip: 3 } }))).toEqual(["d", "e"]);
    const first = queryResourceGraph(jobs, { query: QUERY, options: { $top: 2 } });
    const token = first.ok ? first.page.$skipToken : undefined;
    expect(token).toEqual(expect.any(String));
    expect(
      names(queryResourceGraph(jobs, { query: QUERY, options: { $top: 2, $skipToken: token } })),
    ).toEqual(["c", "d"]);
    expect(
      names(queryResourceGraph(jobs, { query: QUERY, options: { $top: 2, $skipToken: token, $skip: 4 } })),
    ).toEqual(["e"]);
  });

  it("refuses a $skipToken of another query or scope", () => {
    const first = queryResourceGraph(jobs, { query: QUERY, options: { $top: 1 } });
    const $skipToken = first.ok ? first.page.$skipToken : undefined;
    expect(queryResourceGraph(jobs, { query: `${QUERY}, type`, options: { $skipToken } })).toMatchObject({
      ok: false,
      code: "InvalidSkipToken",
    });
    expect(
      queryResourceGraph(jobs, { query: QUERY, subscriptions: ["s2"], options: { $skipToken } }),
    ).toMatchObject({
      ok: false,
      code: "InvalidSkipToken",
    });
  });

  it.each([
    [{ query: QUERY, options: { $top: 1001 } }, "options.$top: Too big: expected number to be <=1000"],
    [
      { query: QUERY, managementGroups: ["mg"] },
      "managementGroups: management group scopes are not served here",
    ],
    [
      { query: QUERY, options: { resultFormat: "table" } },
      "options.resultFormat: only resultFormat objectArray is served here",
    ],
    [{ subscriptions: ["s1"] }, "query: Invalid input: expected string, received undefined"],
  ])("refuses %o", (body, message) => {
    expect(queryResourceGraph(jobs, body)).toEqual({ ok: false, code: "InvalidRequest", message });
  });
});
