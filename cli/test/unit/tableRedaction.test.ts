import { describe, expect, it } from "vitest";
import { renderTable } from "../../src/core/table.ts";

const JWT =
  "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk";

describe("a table cell cut to its column's width", () => {
  it("is redacted first, so a token straddling the cut leaves no fragment", () => {
    // The column keeps 59 characters and the ellipsis; the token starts at 40.
    const cell = `${"d".repeat(39)} ${JWT}`;
    const table = renderTable([{ header: "description", maxWidth: 60 }], [[cell]]);
    expect(table).not.toContain(JWT.slice(0, 12));
    expect(table).toContain("[REDACTED]");
  });
});
