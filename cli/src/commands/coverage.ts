/** `scanctl coverage`: running images against their last scan and the SLO, through the recorder's API. */
import { COVERAGE_STATES, type CoverageItem, type CoverageView } from "@qcs/shared";
import { type Command, Option } from "commander";
import { CliError } from "../core/cliError.ts";
import { renderCoverage, uncoveredCount } from "../core/coverageView.ts";
import type { ScanctlContext } from "./context.ts";
import { jsonOption } from "./options.ts";

/** The recorder's API returns at most this many per page. */
const API_PAGE = 500;

export function registerCoverage(program: Command, context: ScanctlContext): void {
  program
    .command("coverage")
    .description("running images (the Workloads inventory) against their last scan and the coverage SLO")
    .addOption(new Option("--state <state>", "only images in this state").choices(COVERAGE_STATES))
    .addOption(jsonOption())
    .addHelpText(
      "after",
      "\n--subscription <id> (the global option): here an Azure subscription ID; only its workloads count,\n" +
        "totals and exit status included.\n" +
        "\nExit status: 0 when every running image (of --subscription, if given) is current; 1 when any is\n" +
        "stale, failing or neverScanned, whatever --state shows, so it can gate a pipeline; 2 on usage errors.",
    )
    .action(async (options: { state?: string; json?: boolean }, command: Command) => {
      // The global --subscription names the recorder's Service Bus subscription elsewhere; coverage
      // reads no Service Bus, and the flag is the one the issue and the API speak of.
      const { subscription } = command.optsWithGlobals<{ subscription?: string }>();
      const recorder = context.recorder();
      const items: CoverageItem[] = [];
      let first: CoverageView | undefined;
      let continuation: string | undefined;
      do {
        const page = await recorder.coverage({
          state: options.state,
          subscription,
          limit: API_PAGE,
          continuation,
        });
        first ??= page;
        items.push(...page.items);
        continuation = page.next;
      } while (continuation !== undefined);
      const { next: _next, ...coverage } = first;
      if (options.json) context.terminal.json({ ...coverage, items });
      else context.terminal.out(renderCoverage(coverage, items, context.now()));
      const uncovered = uncoveredCount(coverage.totals);
      if (uncovered > 0) {
        throw new CliError(
          "UNCOVERED",
          `${uncovered} of ${coverage.totals.images} running images are not current`,
        );
      }
    });
}
