/** `scanctl dlq ...`: the dead-letter queues of scan requests and of results. */
import type { Command } from "commander";
import type { ScanctlContext } from "./context.ts";
import { registerDlqList } from "./dlqList.ts";
import { registerDlqPurge } from "./dlqPurge.ts";
import { registerDlqResubmit } from "./dlqResubmit.ts";
import { registerDlqShow } from "./dlqShow.ts";

export function registerDlq(program: Command, context: ScanctlContext): void {
  const dlq = program
    .command("dlq")
    .description("inspect, resubmit and purge dead letters (failed scans and unrecordable results)");
  registerDlqList(dlq, context);
  registerDlqShow(dlq, context);
  registerDlqResubmit(dlq, context);
  registerDlqPurge(dlq, context);
}
