/**
 * Coverage as observable gauges on /metrics. A scrape reads the cached coverage (so scrapes cost
 * no more than API requests); when the tables cannot be read the scrape shows no coverage values.
 */
import type { Meter } from "@opentelemetry/api";
import { COVERAGE_STATES, type Logger } from "@qcs/shared";
import type { CoverageReport } from "../../core/coverageReport.ts";

export function registerCoverageGauges(meter: Meter, report: CoverageReport, logger: Logger): void {
  const images = meter.createObservableGauge("qcs_coverage_images", {
    description:
      "distinct images running in Workloads, by coverage state (current, stale, failing, neverScanned)",
  });
  const workloads = meter.createObservableGauge("qcs_coverage_workloads", {
    description: "workloads (container groups, container apps, jobs) in Workloads",
  });
  meter.addBatchObservableCallback(
    async (observer) => {
      try {
        const { totals } = (await report.get()).coverage;
        for (const state of COVERAGE_STATES) observer.observe(images, totals[state], { state });
        observer.observe(workloads, totals.workloads);
      } catch (error) {
        logger.warn({ err: error }, "coverage gauges: the tables could not be read");
      }
    },
    [images, workloads],
  );
}
