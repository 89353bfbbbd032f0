import { describe, expect, it } from "vitest";
import { Cached } from "../../src/core/cached.ts";

/** A computation the test finishes by hand, on a clock the test moves. */
function controlled() {
  let clock = 0;
  const pending: Array<{ resolve: (value: number) => void; reject: (error: Error) => void }> = [];
  const cached = new Cached(
    1_000,
    () => new Promise<number>((resolve, reject) => pending.push({ resolve, reject })),
    () => clock,
  );
  return {
    cached,
    pending,
    tick: (ms: number) => {
      clock += ms;
    },
  };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("Cached.current", () => {
  it("makes only the first caller wait, then answers an expired value while one recomputation runs", async () => {
    const { cached, pending, tick } = controlled();
    const failures: unknown[] = [];
    const first = cached.current((error) => failures.push(error));
    await settle();
    pending[0]?.resolve(1);
    expect((await first).value).toBe(1);

    tick(1_500);
    expect((await cached.current((error) => failures.push(error))).value).toBe(1);
    expect((await cached.current((error) => failures.push(error))).value).toBe(1);
    expect(pending).toHaveLength(2); // one recomputation for both callers
    pending[1]?.resolve(2);
    await settle();
    expect((await cached.current((error) => failures.push(error))).value).toBe(2);
    expect(failures).toEqual([]);
  });

  it("keeps answering the old value when a recomputation fails, and reports the failure once", async () => {
    const { cached, pending, tick } = controlled();
    const failures: unknown[] = [];
    const first = cached.current((error) => failures.push(error));
    await settle();
    pending[0]?.resolve(1);
    await first;
    tick(1_500);
    expect((await cached.current((error) => failures.push(error))).value).toBe(1);
    pending[1]?.reject(new Error("storage refused"));
    await settle();
    expect(failures).toEqual([new Error("storage refused")]);
    expect((await cached.current((error) => failures.push(error))).value).toBe(1);
    expect(pending).toHaveLength(3); // still expired: the next caller starts another
  });
});
