import { describe, expect, it } from "vitest";
import { scanctl } from "../support/runCli.ts";

const KEY = "c2VjcmV0LWtleS1zaG91bGQtbmV2ZXItYmUtcHJpbnRlZA==";

describe("scanctl as a command", () => {
  it("prints help and exits 0", async () => {
    const run = await scanctl(["--help"]);
    expect(run.code).toBe(0);
    for (const command of ["status", "dlq", "rescan", "replay", "scans"])
      expect(run.stdout).toContain(command);
  });

  it("documents every dlq subcommand", async () => {
    const run = await scanctl(["dlq", "--help"]);
    expect(run.code).toBe(0);
    for (const command of ["list", "show", "resubmit", "purge"]) expect(run.stdout).toContain(command);
  });

  it("exits 2 on an unknown command or option, with one line saying which", async () => {
    const unknown = await scanctl(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const option = await scanctl(["dlq", "list", "--colour"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("--colour");
  });

  it("refuses to purge without --yes before connecting to anything", async () => {
    const run = await scanctl(["dlq", "purge", "--all"], {});
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      "scanctl: purge removes dead letters for good: add --yes to confirm, or --dry-run to see what it would remove",
    );
  });

  it("exits 2 naming the variables when no Service Bus is configured", async () => {
    const run = await scanctl(["dlq", "list"], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("SERVICEBUS_CONNECTION_STRING");
  });

  it("exits 2 on a resubmit that selects nothing, before connecting", async () => {
    const run = await scanctl(["dlq", "resubmit"], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--all");
  });

  it("refuses an invalid image reference for rescan with exit 2", async () => {
    const run = await scanctl(["rescan", "-rf"], {});
    expect(run.code).toBe(2);
    const bad = await scanctl(["rescan", "Not An Image"], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("not an image reference");
  });

  it("never prints a secret from the configuration in an error", async () => {
    const run = await scanctl(["--verbose", "dlq", "list"], {
      SERVICEBUS_CONNECTION_STRING: `Endpoint=http://nope;SharedAccessKeyName=root;SharedAccessKey=${KEY}`,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("SERVICEBUS_CONNECTION_STRING");
    expect(run.stderr).not.toContain(KEY);
  });

  it("says which variable is missing for scan queries", async () => {
    const run = await scanctl(["scans", "list"], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("RECORDER_URL");
  });

  it("reports an unreachable recorder as an operational failure (exit 1) in one line", async () => {
    const run = await scanctl(["scans", "list"], {
      RECORDER_URL: "http://127.0.0.1:9",
      RECORDER_API_KEY: "k",
    });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("cannot reach the recorder at http://127.0.0.1:9");
  });
});
