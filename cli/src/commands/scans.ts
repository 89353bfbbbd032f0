/** `scanctl scans list|show`: scan records, through the recorder's API. */

import { tryParseImageRef } from "@qcs/shared";
import type { Command } from "commander";
import { Option } from "commander";
import { CliError, usageError } from "../core/cliError.ts";
import { parseDuration } from "../core/duration.ts";
import { renderImageDetail, renderScanList } from "../core/scanViews.ts";
import type { ScanctlContext } from "./context.ts";
import { jsonOption, positiveInteger } from "./options.ts";

/** The recorder's API returns at most this many per page. */
const API_PAGE = 500;

export function registerScans(program: Command, context: ScanctlContext): void {
  const scans = program
    .command("scans")
    .description("recorded scans, from the recorder's API (RECORDER_URL)");

  scans
    .command("list")
    .description("latest state per image, most recently scanned first")
    .addOption(
      new Option("--status <status>", "only this outcome").choices(["succeeded", "failed", "skipped"]),
    )
    .option("--registry <host>", "only images of this registry")
    .option("--since <duration>", "only images scanned within this long: 30m, 12h, 7d")
    .option("--limit <n>", "images to show", positiveInteger(100_000), 50)
    .addOption(jsonOption())
    .action(
      async (options: {
        status?: string;
        registry?: string;
        since?: string;
        limit: number;
        json?: boolean;
      }) => {
        const now = context.now();
        const since =
          options.since === undefined
            ? undefined
            : new Date(now.getTime() - parseDuration(options.since, "--since")).toISOString();
        const recorder = context.recorder();
        const items = [];
        let continuation: string | undefined;
        do {
          const page = await recorder.listScans({
            status: options.status,
            registry: options.registry,
            since,
            limit: Math.min(API_PAGE, options.limit - items.length),
            continuation,
          });
          items.push(...page.items);
          continuation = page.continuation;
        } while (continuation !== undefined && items.length < options.limit);
        if (options.json) context.terminal.json({ items, ...(continuation ? { continuation } : {}) });
        else context.terminal.out(renderScanList(items, now, continuation !== undefined));
      },
    );

  scans
    .command("show")
    .description("one image: its latest state and its scan history")
    .argument("<image>", "image reference as deployed or canonical, e.g. nginx:1.27")
    .option("--limit <n>", "history entries to show", positiveInteger(API_PAGE), 20)
    .addOption(jsonOption())
    .action(async (image: string, options: { limit: number; json?: boolean }) => {
      const parsed = tryParseImageRef(image);
      if (!parsed.ok) throw usageError(`not an image reference: "${image}" (${parsed.reason})`);
      const detail = await context.recorder().image(image, { limit: options.limit });
      if (detail === undefined) throw new CliError("NOT_FOUND", `no scan recorded for ${image}`);
      if (options.json) context.terminal.json(detail);
      else context.terminal.out(renderImageDetail(detail, context.now()));
    });
}
