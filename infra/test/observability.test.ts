// Observability in Azure, as planned: the services' Application Insights connection string from Key
// Vault, the five alerts (each one's metric or KQL, threshold and action group), and the workbook,
// whose JSON is checked against a schema of the workbook format (support/workbook.schema.json) and
// whose queries are the KQL files in infra/queries. The KQL must name metrics the services export.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { locateBicep, pinnedBicepVersion } from "./support/bicep.ts";
import { infraDir, repoRoot } from "./support/paths.ts";
import { type DeploymentSnapshot, deploymentSnapshot, type PredictedResource } from "./support/snapshot.ts";

const MAIN_RG = "/subscriptions/00000000-0000-0000-0000-00000000c0de/resourceGroups/rg-qcs";
const APP_INSIGHTS = `${MAIN_RG}/providers/Microsoft.Insights/components/appi-qcs`;
const ACTION_GROUP = `${MAIN_RG}/providers/Microsoft.Insights/actionGroups/qcs-operators`;
const ALERT_ENV = {
  QCS_ALERT_EMAIL: "ops@example.com",
  QCS_ALERT_WEBHOOK: "https://hooks.example.com/alerts",
};

const kql = (path: string) => readFile(join(infraDir, "queries", path), "utf8");
const workbookTemplate = async () =>
  JSON.parse(await readFile(join(infraDir, "workbooks/pipeline.workbook.json"), "utf8")) as {
    items: Array<{ type: number; name: string; content: { query?: string; resourceIds?: string[] } }>;
  };

/** Every instrument name the services create (createCounter("name", ...) and the like). */
async function exportedMetricNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const root of ["services/ingest/src", "services/scanner/src", "services/recorder/src"]) {
    const dir = join(repoRoot, root);
    for (const file of await readdir(dir, { recursive: true })) {
      if (!file.endsWith(".ts")) continue;
      const text = await readFile(join(dir, file), "utf8");
      for (const match of text.matchAll(
        /\.create(?:Observable)?(?:Counter|UpDownCounter|Histogram|Gauge)\(\s*"([a-z_]+)"/g,
      )) {
        names.add(match[1] as string);
      }
    }
  }
  return names;
}

describe("KQL and the workbook template", () => {
  it("names only metrics the services export, in every query file, and every query file is used", async () => {
    const exported = await exportedMetricNames();
    expect(exported.has("scanner_scans")).toBe(true);
    const files = (await readdir(join(infraDir, "queries"), { recursive: true })).filter((f) =>
      f.endsWith(".kql"),
    );
    expect(files.length).toBe(10);
    const bicepText = [
      await readFile(join(infraDir, "modules/alerts.bicep"), "utf8"),
      await readFile(join(infraDir, "modules/workbook.bicep"), "utf8"),
    ].join("\n");
    for (const file of files) {
      const text = await kql(file);
      const named = [...text.matchAll(/name (?:==|in) \(?([^)\n|]+)/g)].flatMap((m) =>
        [...(m[1] as string).matchAll(/"([a-z_]+)"/g)].map((n) => n[1] as string),
      );
      for (const name of named) expect(exported, `${file} names ${name}`).toContain(name);
      expect(bicepText, `${file} is loaded`).toContain(`../queries/${file}`);
    }
  });

  it("finds the traces by the span names the services give them", async () => {
    const latency = await kql("workbook/event-to-record-latency.kql");
    const sources = {
      "ingest send ScanRequested": "services/ingest/src/adapters/serviceBus/scanRequestSender.ts",
      "recorder process ScanCompleted": "services/recorder/src/adapters/serviceBus/scanCompletedReceiver.ts",
    };
    for (const [span, file] of Object.entries(sources)) {
      expect(latency).toContain(`name == "${span}"`);
      expect(await readFile(join(repoRoot, file), "utf8")).toContain(`"${span}"`);
    }
  });

  it("is a workbook by the schema of its format, with its metric steps on the Service Bus namespace", async () => {
    const schema = JSON.parse(await readFile(join(infraDir, "test/support/workbook.schema.json"), "utf8"));
    const validate = new Ajv({ allErrors: true }).compile(schema);
    const template = await workbookTemplate();
    expect(validate(template), JSON.stringify(validate.errors, null, 2)).toBe(true);
    // The schema rejects what it should: a query step without its KQL.
    const broken = structuredClone(template);
    const query = broken.items.find((item) => item.type === 3);
    if (query) delete query.content.query;
    expect(validate(broken)).toBe(false);
    const metricSteps = template.items.filter((item) => item.type === 10);
    expect(metricSteps.map((item) => item.name)).toEqual(["backlog", "dead-letters"]);
    for (const step of metricSteps) expect(step.content.resourceIds).toEqual(["__SERVICE_BUS_ID__"]);
  });
});

const bicep = await locateBicep();

describe.skipIf(!bicep.available)(
  `observability as planned (${bicep.available ? "bicep snapshot" : `skipped: ${bicep.reason}`})`,
  { timeout: 180_000 },
  async () => {
    const snapshot = async (env: Record<string, string> = {}): Promise<DeploymentSnapshot> =>
      bicep.available
        ? deploymentSnapshot(bicep.path, await pinnedBicepVersion(), env)
        : { predictedResources: [], diagnostics: [] };
    const [plain, alerting] = [await snapshot(), await snapshot(ALERT_ENV)];
    const ofType = (s: DeploymentSnapshot, type: string): PredictedResource[] =>
      s.predictedResources.filter((resource) => resource.type === type);

    it("gives the three services Application Insights' connection string from Key Vault, never as a plain setting", () => {
      expect(alerting.diagnostics).toEqual([]);
      const secret = ofType(plain, "Microsoft.KeyVault/vaults/secrets").find((s) =>
        s.name.endsWith("/appinsights-connection-string"),
      );
      expect(secret?.properties.value).toContain(`'${APP_INSIGHTS}'`);
      expect(secret?.properties.value).toContain(".ConnectionString");
      for (const app of ofType(plain, "Microsoft.App/containerApps")) {
        const env = app.properties.template.containers[0].env as Array<{
          name: string;
          value?: string;
          secretRef?: string;
        }>;
        expect(
          env.filter(({ name }) => name === "APPLICATIONINSIGHTS_CONNECTION_STRING"),
          app.name,
        ).toEqual([
          { name: "APPLICATIONINSIGHTS_CONNECTION_STRING", secretRef: "appinsights-connection-string" },
        ]);
        expect(app.properties.configuration.secrets).toContainEqual(
          expect.objectContaining({ name: "appinsights-connection-string" }),
        );
      }
      const environment = ofType(plain, "Microsoft.App/managedEnvironments")[0];
      expect(environment?.properties.openTelemetryConfiguration).toBeUndefined();
    });

    it("creates no action group and no alert while the email address and the webhook are both empty", () => {
      // The snapshot leaves a secure parameter unevaluated: without an email address, each of the six
      // exists only if the webhook is given (main.bicepparam gives none unless QCS_ALERT_WEBHOOK is set).
      const alerting = [
        "Microsoft.Insights/actionGroups",
        "Microsoft.Insights/metricAlerts",
        "Microsoft.Insights/scheduledQueryRules",
      ].flatMap((type) => ofType(plain, type));
      expect(alerting).toHaveLength(6);
      for (const resource of alerting) {
        expect(resource.condition, resource.name).toBe(
          "[or(false(), not(empty(parameters('alertWebhookUrl'))))]",
        );
      }
    });

    it("sends the alerts to an action group with the email address and the webhook", () => {
      const [group, ...others] = ofType(alerting, "Microsoft.Insights/actionGroups");
      expect(others).toEqual([]);
      expect(group?.id).toBe(ACTION_GROUP);
      expect(group?.properties.emailReceivers).toEqual([
        { name: "email", emailAddress: "ops@example.com", useCommonAlertSchema: true },
      ]);
      // A secure parameter: the snapshot keeps the expression, which wires the webhook parameter.
      expect(group?.properties.webhookReceivers).toContain("parameters('alertWebhookUrl')");
    });

    it("alerts on dead letters waiting 15 minutes on scan-requests and the recorder's topic", () => {
      const [alert, ...others] = ofType(alerting, "Microsoft.Insights/metricAlerts");
      expect(others).toEqual([]);
      expect(alert?.properties).toMatchObject({
        scopes: [`${MAIN_RG}/providers/Microsoft.ServiceBus/namespaces/sb-qcs-moupjo`],
        windowSize: "PT15M",
        evaluationFrequency: "PT5M",
        actions: [{ actionGroupId: ACTION_GROUP }],
        criteria: {
          allOf: [
            {
              metricNamespace: "Microsoft.ServiceBus/namespaces",
              metricName: "DeadletteredMessages",
              dimensions: [
                { name: "EntityName", operator: "Include", values: ["scan-requests", "scan-completed"] },
              ],
              timeAggregation: "Minimum",
              operator: "GreaterThan",
              threshold: 0,
            },
          ],
        },
      });
    });

    it("runs each log alert's KQL file on Application Insights with its threshold, window and action group", async () => {
      const rules = Object.fromEntries(
        ofType(alerting, "Microsoft.Insights/scheduledQueryRules").map((rule) => [
          rule.name,
          rule.properties,
        ]),
      );
      const expected = {
        "qcs-scan-failure-rate": ["scan-failure-rate.kql", "failureRatePercent", "GreaterThan", 20, "PT1H"],
        "qcs-events-given-up": ["events-given-up.kql", "givenUp", "GreaterThan", 0, "PT15M"],
        "qcs-coverage-below-slo": ["coverage-below-slo.kql", "coveragePercent", "LessThan", 95, "P1D"],
        "qcs-no-scan-recorded": ["no-scan-recorded.kql", null, "GreaterThan", 0, "P1D"],
      } as const;
      expect(Object.keys(rules).sort()).toEqual(Object.keys(expected).sort());
      for (const [name, [file, measure, operator, threshold, window]] of Object.entries(expected)) {
        const rule = rules[name];
        expect(rule.scopes, name).toEqual([APP_INSIGHTS]);
        expect(rule.windowSize, name).toBe(window);
        expect(rule.actions, name).toEqual({ actionGroups: [ACTION_GROUP] });
        const [criterion, ...more] = rule.criteria.allOf;
        expect(more, name).toEqual([]);
        expect(criterion.query, name).toBe(await kql(`alerts/${file}`));
        expect(criterion.metricMeasureColumn ?? null, name).toBe(measure);
        if (measure) expect(criterion.query, name).toContain(measure);
        expect(criterion.operator, name).toBe(operator);
        expect(criterion.threshold, name).toBe(threshold);
      }
    });

    it("deploys the workbook from the template, with the KQL files in its query steps and the resources in place", async () => {
      const [workbook, ...others] = ofType(plain, "Microsoft.Insights/workbooks");
      expect(others).toEqual([]);
      expect(workbook?.properties).toMatchObject({ category: "workbook", sourceId: APP_INSIGHTS });
      const deployed = JSON.parse(workbook?.properties.serializedData);
      const template = await workbookTemplate();
      const files: Record<string, string> = {
        requests: "requests.kql",
        scansByOutcome: "scans-by-outcome.kql",
        failuresByClass: "failures-by-class.kql",
        scanDuration: "scan-duration.kql",
        eventToRecordLatency: "event-to-record-latency.kql",
        coverage: "coverage.kql",
      };
      const expected = structuredClone(template);
      for (const item of expected.items) {
        if (item.type === 3)
          item.content.query = await kql(`workbook/${files[item.content.query as string]}`);
        if (item.type === 10)
          item.content.resourceIds = [`${MAIN_RG}/providers/Microsoft.ServiceBus/namespaces/sb-qcs-moupjo`];
      }
      expect(deployed).toEqual({ ...expected, fallbackResourceIds: [APP_INSIGHTS] });
    });
  },
);
