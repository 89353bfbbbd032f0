// What the deployment would create, read from `bicep snapshot` (no Azure needed): keyless data planes,
// least-privilege identities, KEDA rules that authenticate with managed identity, scale to zero, and the
// two event paths into the activity-log hub.
import { describe, expect, it } from "vitest";
import { locateBicep, pinnedBicepVersion } from "./support/bicep.ts";
import { type DeploymentSnapshot, deploymentSnapshot, type PredictedResource } from "./support/snapshot.ts";

const bicep = await locateBicep();
const ROLE = {
  owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  userAccessAdministrator: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
  serviceBusDataOwner: "090c5cfd-751d-490a-894a-3ce6f1109419",
  eventHubsDataSender: "2b629674-e913-4c01-ae53-ef4638d8f975",
};

describe.skipIf(!bicep.available)(
  `Azure deployment as planned (${bicep.available ? "bicep snapshot" : `skipped: ${bicep.reason}`})`,
  async () => {
    const snapshot: DeploymentSnapshot = bicep.available
      ? await deploymentSnapshot(bicep.path, await pinnedBicepVersion())
      : { predictedResources: [], diagnostics: [] };
    const ofType = (type: string): PredictedResource[] =>
      snapshot.predictedResources.filter((resource) => resource.type === type);
    const one = (type: string): PredictedResource => {
      const [resource, ...rest] = ofType(type);
      if (!resource || rest.length > 0) throw new Error(`expected exactly one ${type}`);
      return resource;
    };
    const apps = ofType("Microsoft.App/containerApps");
    const roleAssignments = ofType("Microsoft.Authorization/roleAssignments");

    it("plans the resources without a diagnostic", () => {
      expect(snapshot.diagnostics).toEqual([]);
      expect(apps.map((app) => app.name).sort()).toEqual([
        "ca-qcs-ingest",
        "ca-qcs-recorder",
        "ca-qcs-scanner",
      ]);
    });

    it("turns off shared keys on Service Bus, Storage and Log Analytics and reads no key anywhere", () => {
      expect(one("Microsoft.ServiceBus/namespaces").properties.disableLocalAuth).toBe(true);
      expect(one("Microsoft.Storage/storageAccounts").properties.allowSharedKeyAccess).toBe(false);
      expect(one("Microsoft.OperationalInsights/workspaces").properties.features.disableLocalAuth).toBe(true);
      expect(one("Microsoft.ContainerRegistry/registries").properties.adminUserEnabled).toBe(false);
      const text = JSON.stringify(snapshot);
      for (const keyReader of [
        "listKeys(",
        "listConnectionStrings(",
        "listCredentials(",
        "AccountKey=",
        "SharedAccessKey=",
      ]) {
        expect(text).not.toContain(keyReader);
      }
    });

    it("keeps the only Event Hubs shared access policy for Azure Monitor's Activity Log stream", () => {
      const rules = ofType("Microsoft.EventHub/namespaces/authorizationRules");
      const setting = ofType("Microsoft.Insights/diagnosticSettings").find((s) => s.properties.eventHubName);
      expect(rules.map((rule) => rule.id)).toEqual([setting?.properties.eventHubAuthorizationRuleId]);
      for (const app of apps) expect(JSON.stringify(app)).not.toContain("authorizationRules");
    });

    it("streams the subscription's Administrative Activity Log to the activity-log hub", () => {
      const setting = ofType("Microsoft.Insights/diagnosticSettings").find((s) => s.properties.eventHubName);
      expect(setting?.id).toMatch(
        /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Insights\/diagnosticSettings\//,
      );
      expect(setting?.properties).toMatchObject({
        eventHubName: "activity-log",
        logs: [{ category: "Administrative", enabled: true }],
      });
    });

    it("delivers ResourceWriteSuccess for ACI and ACA writes to the same hub with the topic's identity", () => {
      const topic = one("Microsoft.EventGrid/systemTopics");
      expect(topic.properties).toMatchObject({ topicType: "Microsoft.Resources.Subscriptions" });
      expect(topic.properties.source).toMatch(/^\/subscriptions\/[^/]+$/);
      const subscription = one("Microsoft.EventGrid/systemTopics/eventSubscriptions");
      expect(subscription.properties.filter).toEqual({
        includedEventTypes: ["Microsoft.Resources.ResourceWriteSuccess"],
        advancedFilters: [
          {
            operatorType: "StringIn",
            key: "data.operationName",
            values: [
              "Microsoft.ContainerInstance/containerGroups/write",
              "Microsoft.App/containerApps/write",
              "Microsoft.App/jobs/write",
            ],
          },
        ],
      });
      const hub = one("Microsoft.EventHub/namespaces/eventhubs");
      expect(subscription.properties.deliveryWithResourceIdentity).toEqual({
        identity: { type: "SystemAssigned" },
        destination: { endpointType: "EventHub", properties: { resourceId: hub.id } },
      });
      const senders = roleAssignments.filter((a) =>
        a.properties.roleDefinitionId.endsWith(ROLE.eventHubsDataSender),
      );
      expect(senders).toHaveLength(1);
      expect(senders[0]?.id).toContain(hub.id);
    });

    it("grants no identity Owner, Contributor or User Access Administrator", () => {
      const broad = [ROLE.owner, ROLE.contributor, ROLE.userAccessAdministrator];
      for (const assignment of roleAssignments) {
        expect(broad.some((role) => assignment.properties.roleDefinitionId.endsWith(role))).toBe(false);
        expect(assignment.properties.principalType).toBe("ServicePrincipal");
      }
      // Data Owner (needed by KEDA's Service Bus scaler) only on single entities, never a namespace.
      for (const assignment of roleAssignments.filter((a) =>
        a.properties.roleDefinitionId.endsWith(ROLE.serviceBusDataOwner),
      )) {
        expect(assignment.id).toMatch(/Microsoft\.ServiceBus\/namespaces\/[^/']+\/(queues|topics)\/[^/']+'/);
      }
    });

    it("runs each app as its own user-assigned identity, for image pulls, secrets and every KEDA rule", () => {
      const identities = new Set<string>();
      for (const app of apps) {
        const ids = Object.keys(app.identity?.userAssignedIdentities ?? {});
        expect(app.identity?.type).toBe("UserAssigned");
        expect(ids).toHaveLength(1);
        const id = ids[0]?.replace(/^\[format\('\{0\}', (.*)\)\]$/, "[$1]") ?? "";
        identities.add(id);
        const { configuration, template } = app.properties;
        expect(configuration.registries.map((r: { identity: string }) => r.identity)).toEqual([id]);
        for (const secret of configuration.secrets) {
          expect(secret).toEqual({
            name: secret.name,
            keyVaultUrl: expect.stringContaining(""),
            identity: id,
          });
          expect(secret.value).toBeUndefined();
        }
        const custom = template.scale.rules.filter((rule: { custom?: unknown }) => rule.custom);
        expect(custom.length).toBeGreaterThan(0);
        for (const rule of custom) {
          expect(rule.custom.identity).toBe(id);
          expect(rule.custom.auth).toBeUndefined();
        }
      }
      expect(identities.size).toBe(3);
    });

    it("scales every app to zero, with a single active revision for the event-driven rules", () => {
      for (const app of apps) {
        expect(app.properties.template.scale.minReplicas).toBe(0);
        expect(app.properties.configuration.activeRevisionsMode).toBe("Single");
      }
    });

    it("lets a scanner replica finish its scans: SIGTERM grace of 600 s, drained within it", () => {
      const scanner = apps.find((app) => app.name.endsWith("-scanner"));
      const env = Object.fromEntries(
        scanner?.properties.template.containers[0].env.map((e: { name: string; value?: string }) => [
          e.name,
          e.value,
        ]),
      );
      expect(scanner?.properties.template.terminationGracePeriodSeconds).toBe(600);
      expect(Number(env.SHUTDOWN_GRACE_SECONDS)).toBeLessThan(600);
    });
  },
);
