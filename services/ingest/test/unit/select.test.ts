import { describe, expect, it } from "vitest";
import { compileExclusions, NO_EXCLUSIONS } from "../../src/core/exclusions.ts";
import { type OperationRecord, parseEventBody } from "../../src/core/parseBody.ts";
import { parseResourceId } from "../../src/core/resourceId.ts";
import { type Selection, selectRecord } from "../../src/core/select.ts";
import { resourceId, SUBSCRIPTION, samples } from "../support/fixtures.ts";

const record = (overrides: Partial<OperationRecord>): OperationRecord => ({
  operationName: "microsoft.containerinstance/containergroups/write",
  resourceId: resourceId("rg-a", "Microsoft.ContainerInstance/containerGroups", "cg-a"),
  status: "success",
  eventTime: "2025-03-14T09:21:11.5541870Z",
  correlationId: "c-1",
  ...overrides,
});
const selectAll = (body: unknown): Selection[] =>
  parseEventBody(body).map((item) => {
    if (!item.ok) throw new Error(item.detail);
    return selectRecord(item.record, NO_EXCLUSIONS);
  });
const reasonOf = (selection: Selection) =>
  "skipped" in selection ? selection.skipped : "deleted" in selection ? "deleted" : "selected";

describe("selecting successful container writes", () => {
  it("selects the Success record of the ACI sample and skips Start and Failure", () => {
    const selections = selectAll(samples.activityLogAci());
    expect(selections.map(reasonOf)).toEqual(["start", "selected", "failure"]);
    expect(selections[1]).toEqual({
      selected: {
        kind: "aci",
        resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-payments-prod/providers/Microsoft.ContainerInstance/containerGroups/ci-invoice-worker`,
        subscriptionId: SUBSCRIPTION,
        resourceGroup: "rg-payments-prod",
        name: "ci-invoice-worker",
        eventTime: "2025-03-14T09:21:11.554Z",
        correlationId: "b68e55d5-4884-455a-8245-8e83155b7790",
      },
    });
  });

  it("skips Start and Accept of the Container Apps write and selects its Success and the job write", () => {
    const selections = selectAll(samples.activityLogAca());
    expect(selections.map(reasonOf)).toEqual(["start", "accept", "selected", "selected"]);
    expect(
      selections.flatMap((selection) => ("selected" in selection ? [selection.selected.kind] : [])),
    ).toEqual(["aca", "aca-job"]);
  });

  it("selects Event Grid and CloudEvents ResourceWriteSuccess events with canonical resource IDs", () => {
    const selections = [...selectAll(samples.eventGrid()), ...selectAll(samples.cloudEvent())];
    expect(
      selections.map((selection) => ("selected" in selection ? selection.selected.resourceId : "")),
    ).toEqual([
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-payments-prod/providers/Microsoft.ContainerInstance/containerGroups/ci-invoice-worker`,
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-checkout-prod/providers/Microsoft.App/containerApps/ca-checkout-api`,
      `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-checkout-prod/providers/Microsoft.App/jobs/caj-nightly-reconcile`,
    ]);
  });

  it("compares operation names and resource IDs case-insensitively", () => {
    const upper = record({
      operationName: "microsoft.app/containerapps/write",
      resourceId: resourceId("RG-A", "MICROSOFT.APP/CONTAINERAPPS", "CA-A").toUpperCase(),
    });
    expect(selectRecord(upper, NO_EXCLUSIONS)).toMatchObject({
      selected: {
        kind: "aca",
        resourceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/RG-A/providers/Microsoft.App/containerApps/CA-A`,
      },
    });
  });

  it("turns successful deletes into removals, excluded ones too, and skips unfinished ones", () => {
    const excludeAll = compileExclusions({ resourceGroups: ["*"], resourceNames: [], images: [] });
    for (const type of [
      "Microsoft.ContainerInstance/containerGroups",
      "Microsoft.App/containerApps",
      "Microsoft.App/jobs",
    ]) {
      const operationName = `${type.toLowerCase()}/delete`;
      const resource = resourceId("rg-a", type, "gone");
      expect(reasonOf(selectRecord(record({ operationName, resourceId: resource }), excludeAll))).toBe(
        "deleted",
      );
    }
    expect(
      reasonOf(
        selectRecord(
          record({ operationName: "microsoft.app/containerapps/delete", status: "start" }),
          NO_EXCLUSIONS,
        ),
      ),
    ).toBe("start");
    const grid = parseEventBody({
      eventType: "Microsoft.Resources.ResourceDeleteSuccess",
      subject: resourceId("rg-a", "Microsoft.App/containerApps", "ca-gone"),
      eventTime: "2025-03-14T09:21:11Z",
      data: { operationName: "Microsoft.App/containerApps/delete" },
    });
    const item = grid[0];
    if (!item?.ok) throw new Error("not parsed");
    expect(selectRecord(item.record, NO_EXCLUSIONS)).toMatchObject({
      deleted: { kind: "aca", name: "ca-gone", subscriptionId: SUBSCRIPTION },
    });
  });

  it("skips other operations on watched types, and other resource types", () => {
    expect(
      reasonOf(
        selectRecord(
          record({ operationName: "microsoft.containerinstance/containergroups/restart/action" }),
          NO_EXCLUSIONS,
        ),
      ),
    ).toBe("other-operation");
    expect(
      reasonOf(selectRecord(record({ operationName: "microsoft.app/jobs/start/action" }), NO_EXCLUSIONS)),
    ).toBe("other-operation");
    expect(
      reasonOf(
        selectRecord(record({ operationName: "microsoft.storage/storageaccounts/write" }), NO_EXCLUSIONS),
      ),
    ).toBe("other-operation");
    expect(
      reasonOf(
        selectRecord(record({ operationName: "microsoft.resources/deployments/write" }), NO_EXCLUSIONS),
      ),
    ).toBe("other-operation");
    expect(reasonOf(selectRecord(record({ operationName: "write" }), NO_EXCLUSIONS))).toBe("other-operation");
  });

  it("skips records with a status it cannot read", () => {
    expect(reasonOf(selectRecord(record({ status: "unknown" }), NO_EXCLUSIONS))).toBe("unknown-status");
  });

  it("skips a resource ID that does not parse, saying why", () => {
    const cases: [string, string][] = [
      ["not-an-id", "does not start with '/'"],
      [
        "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.App/jobs/j",
        "subscription ID is not a GUID",
      ],
      [
        `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.App/jobs/j`,
        "no /resourceGroups/{name} after the subscription",
      ],
      [
        `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.App/jobs`,
        "expected {type}/{name} pairs after the namespace",
      ],
      [
        `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.App/jobs/bad name`,
        'malformed resource name "bad name"',
      ],
      [
        `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.App/jobs/..%2f..`,
        'malformed resource name "..%2f.."',
      ],
    ];
    for (const [id, reason] of cases) {
      const selection = selectRecord(
        record({ operationName: "microsoft.app/jobs/write", resourceId: id }),
        NO_EXCLUSIONS,
      );
      expect(selection).toEqual({ skipped: "invalid-resource-id", detail: `${reason}: ${id}` });
    }
  });

  it("skips a matching operation on an unexpected resource type", () => {
    const storage = resourceId("rg", "Microsoft.Storage/storageAccounts", "sa");
    expect(selectRecord(record({ resourceId: storage }), NO_EXCLUSIONS)).toEqual({
      skipped: "unexpected-resource-type",
      detail:
        "microsoft.containerinstance/containergroups/write on a resource of type Microsoft.Storage/storageAccounts",
    });
    const revision = `${resourceId("rg", "Microsoft.App/containerApps", "ca")}/revisions/ca--r1`;
    expect(
      reasonOf(
        selectRecord(
          record({ operationName: "microsoft.app/containerapps/write", resourceId: revision }),
          NO_EXCLUSIONS,
        ),
      ),
    ).toBe("unexpected-resource-type");
    const job = resourceId("rg", "Microsoft.App/jobs", "j");
    expect(
      reasonOf(
        selectRecord(
          record({ operationName: "microsoft.app/containerapps/write", resourceId: job }),
          NO_EXCLUSIONS,
        ),
      ),
    ).toBe("unexpected-resource-type");
  });
});

describe("exclusions", () => {
  const exclusions = compileExclusions({
    resourceGroups: ["rg-qcs-*", "sandbox"],
    resourceNames: ["qcs-*"],
    images: ["mcr.microsoft.com/**", "docker.io/library/busybox"],
  });

  it("skips resource groups and names matching the globs, in any casing", () => {
    expect(
      reasonOf(
        selectRecord(
          record({
            resourceId: resourceId("RG-QCS-PROD", "Microsoft.ContainerInstance/containerGroups", "x"),
          }),
          exclusions,
        ),
      ),
    ).toBe("excluded-resource-group");
    expect(
      reasonOf(
        selectRecord(
          record({ resourceId: resourceId("Sandbox", "Microsoft.ContainerInstance/containerGroups", "x") }),
          exclusions,
        ),
      ),
    ).toBe("excluded-resource-group");
    expect(
      reasonOf(
        selectRecord(
          record({
            resourceId: resourceId("rg", "Microsoft.ContainerInstance/containerGroups", "QCS-INGEST"),
          }),
          exclusions,
        ),
      ),
    ).toBe("excluded-resource-name");
    expect(
      reasonOf(
        selectRecord(
          record({
            resourceId: resourceId("rg-qcsprod", "Microsoft.ContainerInstance/containerGroups", "app"),
          }),
          exclusions,
        ),
      ),
    ).toBe("selected");
  });

  it("matches image globs against the canonical reference and against registry/repository", () => {
    const image = (ref: string, registry: string, repository: string) =>
      exclusions.image({ ref, registry, repository });
    expect(image("mcr.microsoft.com/dotnet/runtime:8.0", "mcr.microsoft.com", "dotnet/runtime")).toBe(true);
    expect(image("docker.io/library/busybox:1.36", "docker.io", "library/busybox")).toBe(true);
    expect(image("docker.io/library/nginx:latest", "docker.io", "library/nginx")).toBe(false);
  });
});

describe("resource IDs", () => {
  it("parses child resources and reports the last name", () => {
    expect(
      parseResourceId(
        `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.App/containerApps/ca/revisions/r1`,
      ),
    ).toEqual({
      ok: true,
      value: {
        subscriptionId: SUBSCRIPTION,
        resourceGroup: "rg",
        type: "Microsoft.App/containerApps/revisions",
        name: "r1",
      },
    });
  });

  it("rejects what is not a string", () => {
    expect(parseResourceId(42)).toEqual({ ok: false, reason: "empty or not a string" });
  });
});
