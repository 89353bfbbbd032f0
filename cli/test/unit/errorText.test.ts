import { describe, expect, it } from "vitest";
import { errorSummary, isNetworkError } from "../../src/adapters/errorText.ts";

describe("error lines", () => {
  it("looks inside an AggregateError whose own message is empty", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    const aggregate = new AggregateError([new Error("first try"), refused], "");
    expect(errorSummary(aggregate)).toBe("connect ECONNREFUSED 127.0.0.1:9");
    expect(isNetworkError(aggregate)).toBe(true);
  });

  it("recognises a socket error whose code the SDK replaced", () => {
    expect(isNetworkError(Object.assign(new Error("x"), { code: "GeneralError", syscall: "connect" }))).toBe(
      true,
    );
    expect(isNetworkError(Object.assign(new Error("x"), { code: "UnauthorizedAccess" }))).toBe(false);
  });

  it("keeps the first line and falls back to the code or the name", () => {
    expect(errorSummary(new Error("one\ntwo"))).toBe("one");
    expect(errorSummary(Object.assign(new Error(""), { code: "ETIMEDOUT" }))).toBe("ETIMEDOUT");
    expect(errorSummary(new TypeError(""))).toBe("TypeError");
  });
});
