import { describe, expect, it } from "vitest";
import { parseResourceGraphQuery } from "../../src/arm/resourceGraphQuery.ts";

describe("the Resource Graph query subset", () => {
  it("parses the sweep's query into a type filter and a projection", () => {
    expect(
      parseResourceGraphQuery(
        `Resources | where type in~ ('microsoft.app/jobs', "microsoft.app/containerapps") | project id, properties`,
      ),
    ).toEqual({
      ok: true,
      steps: [
        {
          kind: "where",
          conditions: [
            {
              column: "type",
              values: ["microsoft.app/jobs", "microsoft.app/containerapps"],
              caseInsensitive: true,
            },
          ],
        },
        { kind: "project", columns: ["id", "properties"] },
      ],
    });
  });

  it("joins conditions with and, == being case-sensitive", () => {
    expect(parseResourceGraphQuery("resources | where type == 'a' and subscriptionId =~ 'S'")).toMatchObject({
      ok: true,
      steps: [
        {
          conditions: [
            { column: "type", values: ["a"], caseInsensitive: false },
            { column: "subscriptionId", values: ["S"], caseInsensitive: true },
          ],
        },
      ],
    });
  });

  it.each([
    ["Resources | take 5", "operator 'take' is not supported here (only where and project)"],
    ["ResourceContainers", "table 'ResourceContainers' is not supported here (only Resources)"],
    ["Resources | project id | where type =~ 'x'", "failed to resolve scalar expression named 'type'"],
    ["Resources | project Name", "failed to resolve scalar expression named 'Name'"],
    [
      "Resources | where type contains 'app'",
      "comparison 'contains' is not supported here (only ==, =~, in, in~)",
    ],
    ["Resources | where type in~ ('a'", "expected ')' at the end of the query"],
    ["Resources | where type =~ x", "expected a string literal but found 'x'"],
    ["Resources | where type =~ 'a' ;", "unexpected character ';' at position 31"],
  ])("refuses %s: %s", (query, reason) => {
    expect(parseResourceGraphQuery(query)).toEqual({ ok: false, reason });
  });
});
