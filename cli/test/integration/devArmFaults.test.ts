/** `scanctl dev --arm-faults <file>` refuses a bad fault file before it starts anything. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanctl } from "../support/runCli.ts";

describe("scanctl dev --arm-faults", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qcs-dev-faults-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("exits 2 naming the file and the field, having started nothing", async () => {
    const file = join(dir, "faults.json");
    await writeFile(file, JSON.stringify([{ resourceId: "/subscriptions/x", status: 429, retryAfter: 5 }]));
    const run = await scanctl(["dev", "--once", "--arm-faults", file, "--data-dir", join(dir, "data")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`invalid fault rules ${file}: [0]: Unrecognized key: "retryAfter"`);
    expect(run.stdout).not.toContain("starting the local stack");
  });
});
