// What the deployment would create, read from `bicep snapshot` (no Azure needed): keyless data planes,
// least-privilege identities (each one's exact roles), KEDA rules that authenticate with identities of their
// own, scale to zero, and the two event paths into the activity-log hub, from one monitored subscription and
// from two.
import { describe, expect, it } from "vitest";
import { locateBicep, pinnedBicepVersion } from "./support/bicep.ts";
import { type DeploymentSnapshot, deploymentSnapshot, type PredictedResource } from "./support/snapshot.ts";

const bicep = await locateBicep();
const ROLE = {
  owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  userAccessAdministrator: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
  reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  // Not built in: the name of the custom role main.bicep defines is looked up in the snapshot.
  workloadReader: "",
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  serviceBusDataOwner: "090c5cfd-751d-490a-894a-3ce6f1109419",
  serviceBusDataReceiver: "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
  serviceBusDataSender: "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
  eventHubsDataReceiver: "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
  eventHubsDataSender: "2b629674-e913-4c01-ae53-ef4638d8f975",
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  storageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
  storageTableDataContributor: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  storageTableDataReader: "76199698-9eea-4c19-bc75-cec21354c6b6",
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
};
const HOME = "00000000-0000-0000-0000-00000000c0de";
const OTHER = "11111111-1111-1111-1111-111111111111";
const MAIN_RG = `/subscriptions/${HOME}/resourceGroups/rg-qcs`;

/** What a planned deployment grants and defines, read from its snapshot. */
function plan(snapshot: DeploymentSnapshot) {
  const ofType = (type: string): PredictedResource[] =>
    snapshot.predictedResources.filter((resource) => resource.type === type);
  const roleAssignments = ofType("Microsoft.Authorization/roleAssignments");
  const workloadReader = ofType("Microsoft.Authorization/roleDefinitions").find((d) =>
    d.properties.roleName.startsWith("Container workload reader"),
  );
  const roleName = (definitionId: string): string =>
    workloadReader && definitionId.endsWith(workloadReader.name)
      ? "workloadReader"
      : (Object.entries(ROLE).find(([, id]) => id && definitionId.endsWith(id))?.[0] ?? definitionId);
  /**
   * A role assignment as "role on scope" for the identity it is granted to. The snapshot leaves principal
   * IDs as `reference('<identity ID>').principalId`; the scope is the first argument of
   * extensionResourceId shortened to its last type/name pair, or the subscription.
   */
  const grant = (assignment: PredictedResource): { principal: string; grant: string } => {
    const principal = /reference\('([^']+)'/.exec(assignment.properties.principalId)?.[1] ?? "";
    const resource = /^\[extensionResourceId\('([^']+)'/.exec(assignment.id)?.[1];
    const subscription = /^\[subscriptionResourceId\('([^']+)'/.exec(assignment.id)?.[1];
    const where = resource ? resource.split("/").slice(-2).join("/") : `subscriptions/${subscription}`;
    return {
      principal: principal.split("/").at(-1) ?? "",
      grant: `${roleName(assignment.properties.roleDefinitionId)} on ${where}`,
    };
  };
  /** Every identity's grants, sorted. */
  const grants = (): Record<string, string[]> => {
    const byPrincipal: Record<string, string[]> = {};
    for (const assignment of roleAssignments) {
      const { principal, grant: what } = grant(assignment);
      byPrincipal[principal] = [...(byPrincipal[principal] ?? []), what];
    }
    for (const list of Object.values(byPrincipal)) list.sort();
    return byPrincipal;
  };
  return { ofType, roleAssignments, workloadReader, roleName, grant, grants };
}

describe.skipIf(!bicep.available)(
  `Azure deployment as planned (${bicep.available ? "bicep snapshot" : `skipped: ${bicep.reason}`})`,
  async () => {
    const snapshot: DeploymentSnapshot = bicep.available
      ? await deploymentSnapshot(bicep.path, await pinnedBicepVersion())
      : { predictedResources: [], diagnostics: [] };
    const { ofType, roleAssignments, roleName, grant, grants: grantsOf } = plan(snapshot);
    const one = (type: string): PredictedResource => {
      const [resource, ...rest] = ofType(type);
      if (!resource || rest.length > 0) throw new Error(`expected exactly one ${type}`);
      return resource;
    };
    const apps = ofType("Microsoft.App/containerApps");

    it("plans the resources without a diagnostic", () => {
      expect(snapshot.diagnostics).toEqual([]);
      expect(apps.map((app) => app.name).sort()).toEqual([
        "ca-qcs-ingest",
        "ca-qcs-recorder",
        "ca-qcs-scanner",
      ]);
    });

    it("runs the sweep as a scheduled job: ingest's image, identity and sweep entry point, every 6 hours by default", () => {
      const job = one("Microsoft.App/jobs");
      expect(job.name).toBe("caj-qcs-sweep");
      expect(Object.keys(job.identity?.userAssignedIdentities ?? {})).toEqual([
        `${MAIN_RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-qcs-ingest`,
      ]);
      const { configuration, template } = job.properties;
      expect(configuration).toMatchObject({
        triggerType: "Schedule",
        replicaRetryLimit: 0,
        scheduleTriggerConfig: { cronExpression: "0 */6 * * *", parallelism: 1, replicaCompletionCount: 1 },
      });
      const [container] = template.containers;
      const ingest = apps.find((app) => app.name === "ca-qcs-ingest");
      expect(container.image).toBe(ingest?.properties.template.containers[0].image);
      expect(container.command).toEqual(["node", "services/ingest/src/sweep.ts"]);
      const env = Object.fromEntries(
        (container.env as { name: string; value: string }[]).map(({ name, value }) => [name, value]),
      );
      expect(env).toMatchObject({
        WORKLOADS_TABLE: "Workloads",
        SWEEP_REQUESTS_QUEUE: "scan-requests-sweep",
        SWEEP_SUBSCRIPTIONS: HOME,
      });
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

    it("delivers successful writes and deletes of container groups, apps and jobs to the same hub with the Event Grid identity", () => {
      const topic = one("Microsoft.EventGrid/systemTopics");
      expect(topic.properties).toEqual({
        source: `/subscriptions/${HOME}`,
        topicType: "Microsoft.Resources.Subscriptions",
      });
      expectContainerChangesToHub(snapshot, HOME);
      expect(grantsOf()["id-qcs-eventgrid"]).toEqual(["eventHubsDataSender on eventhubs/activity-log"]);
      const senders = roleAssignments.filter(
        (a) => roleName(a.properties.roleDefinitionId) === "eventHubsDataSender",
      );
      expect(senders).toHaveLength(1);
    });

    it("lets ingest read container groups, apps and jobs and nothing else, instead of Reader on the subscription", () => {
      expect(roleAssignments.filter((a) => roleName(a.properties.roleDefinitionId) === "reader")).toEqual([]);
      const [definition, ...more] = ofType("Microsoft.Authorization/roleDefinitions");
      expect(more).toEqual([]);
      expect(definition?.properties).toMatchObject({
        type: "CustomRole",
        permissions: [
          {
            actions: [
              "Microsoft.ContainerInstance/containerGroups/read",
              "Microsoft.App/containerApps/read",
              "Microsoft.App/jobs/read",
              "Microsoft.ResourceGraph/resources/read",
            ],
            notActions: [],
          },
        ],
        assignableScopes: [`/subscriptions/${HOME}`],
      });
      expect(definition?.properties.permissions[0].dataActions ?? []).toEqual([]);
    });

    it("grants no identity Owner, Contributor or User Access Administrator", () => {
      const broad = [ROLE.owner, ROLE.contributor, ROLE.userAccessAdministrator];
      for (const assignment of roleAssignments) {
        expect(broad.some((role) => assignment.properties.roleDefinitionId.endsWith(role))).toBe(false);
        expect(assignment.properties.principalType).toBe("ServicePrincipal");
      }
      // Data Owner (needed by KEDA's Service Bus scaler) only for a scale rule's identity on a single
      // entity, never a namespace, never a service's own identity.
      const owners = roleAssignments.filter((a) =>
        a.properties.roleDefinitionId.endsWith(ROLE.serviceBusDataOwner),
      );
      expect(owners).toHaveLength(4);
      for (const assignment of owners) {
        expect(assignment.id).toMatch(/Microsoft\.ServiceBus\/namespaces\/[^/']+\/(queues|topics)\/[^/']+'/);
        expect(grant(assignment).principal).toMatch(/-scale$/);
      }
    });

    it("runs each app as its own identity for image pulls and secrets, and its KEDA rules as another one that the app's code cannot use", () => {
      const seen = new Set<string>();
      for (const app of apps) {
        const service = app.name.replace(/^ca-qcs-/, "");
        const own = `${MAIN_RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-qcs-${service}`;
        const scale = `${own}-scale`;
        expect(app.identity?.type).toBe("UserAssigned");
        expect(Object.keys(app.identity?.userAssignedIdentities ?? {}).sort()).toEqual([own, scale]);
        // Without lifecycle None the scale identity's token would be one IMDS call away for the service.
        expect(app.properties.configuration.identitySettings).toEqual([
          { identity: scale, lifecycle: "None" },
        ]);
        const { configuration, template } = app.properties;
        expect(configuration.registries.map((r: { identity: string }) => r.identity)).toEqual([own]);
        for (const secret of configuration.secrets) {
          expect(secret).toEqual({
            name: secret.name,
            keyVaultUrl: expect.stringContaining(""),
            identity: own,
          });
          expect(secret.value).toBeUndefined();
        }
        const custom = template.scale.rules.filter((rule: { custom?: unknown }) => rule.custom);
        expect(custom.length).toBeGreaterThan(0);
        for (const rule of custom) {
          expect(rule.custom.identity).toBe(scale);
          expect(rule.custom.auth).toBeUndefined();
        }
        seen.add(own).add(scale);
      }
      expect(seen.size).toBe(6);
    });

    it("gives each KEDA rule's identity only what its scaler reads: partition info and checkpoints, or one entity's message counts", () => {
      const grants = grantsOf();
      expect(grants["id-qcs-ingest-scale"]).toEqual([
        "eventHubsDataReceiver on eventhubs/activity-log",
        "storageBlobDataReader on containers/checkpoints",
      ]);
      // Service Bus hands out runtime counts only with Manage, which only Data Owner grants with Entra ID.
      expect(grants["id-qcs-scanner-scale"]).toEqual([
        "serviceBusDataOwner on queues/scan-requests",
        "serviceBusDataOwner on queues/scan-requests-sweep",
      ]);
      expect(grants["id-qcs-recorder-scale"]).toEqual([
        "serviceBusDataOwner on queues/notifications",
        "serviceBusDataOwner on topics/scan-completed",
      ]);
    });

    it("gives the services Service Bus Data Receiver and Sender, never Data Owner, and each one only its own Key Vault secret (besides Application Insights' connection string)", () => {
      const grants = grantsOf();
      expect(grants["id-qcs-ingest"]).toEqual([
        `acrPull on registries/${one("Microsoft.ContainerRegistry/registries").name}`,
        "eventHubsDataReceiver on eventhubs/activity-log",
        "keyVaultSecretsUser on secrets/appinsights-connection-string",
        "serviceBusDataSender on queues/scan-requests",
        "serviceBusDataSender on queues/scan-requests-sweep",
        "storageBlobDataContributor on containers/checkpoints",
        "storageTableDataContributor on tables/Workloads",
        `workloadReader on subscriptions/${HOME}`,
      ]);
      expect(grants["id-qcs-scanner"]).toEqual([
        `acrPull on subscriptions/${HOME}`,
        "keyVaultSecretsUser on secrets/appinsights-connection-string",
        "keyVaultSecretsUser on secrets/qualys-access-token",
        "serviceBusDataReceiver on queues/scan-requests",
        "serviceBusDataReceiver on queues/scan-requests-sweep",
        "serviceBusDataSender on queues/scan-requests",
        "serviceBusDataSender on queues/scan-requests-sweep",
        "serviceBusDataSender on topics/scan-completed",
        "storageTableDataReader on tables/ScanMetadata",
      ]);
      expect(grants["id-qcs-recorder"]).toEqual([
        `acrPull on registries/${one("Microsoft.ContainerRegistry/registries").name}`,
        "keyVaultSecretsUser on secrets/appinsights-connection-string",
        "keyVaultSecretsUser on secrets/recorder-api-key",
        "serviceBusDataReceiver on queues/notifications",
        "serviceBusDataReceiver on topics/scan-completed",
        "serviceBusDataSender on queues/notifications",
        "storageTableDataContributor on tables/ScanHistory",
        "storageTableDataContributor on tables/ScanMetadata",
        "storageTableDataReader on tables/Workloads",
      ]);
      const secretUsers = roleAssignments.filter(
        (a) => roleName(a.properties.roleDefinitionId) === "keyVaultSecretsUser",
      );
      // Each service's own secret, and Application Insights' connection string for all three.
      expect(secretUsers).toHaveLength(5);
      for (const assignment of secretUsers) expect(grant(assignment).grant).toMatch(/ on secrets\//);
    });

    it("turns on Key Vault purge protection, so a deleted Qualys token can be recovered for the whole retention", () => {
      expect(one("Microsoft.KeyVault/vaults").properties).toMatchObject({
        enableSoftDelete: true,
        enablePurgeProtection: true,
      });
    });

    it("scales every app to zero, with a single active revision for the event-driven rules", () => {
      for (const app of apps) {
        expect(app.properties.template.scale.minReplicas).toBe(0);
        expect(app.properties.configuration.activeRevisionsMode).toBe("Single");
      }
    });

    it("scales the scanner on both request queues, the sweep queue alone to at most sweepMaxReplicas", () => {
      const scanner = apps.find((app) => app.name.endsWith("-scanner"));
      const { scale, containers } = scanner?.properties.template ?? {};
      const env = Object.fromEntries(
        containers[0].env.map((e: { name: string; value?: string }) => [e.name, e.value]),
      );
      const rules = scale.rules.map((rule: { name: string; custom: { type: string; metadata: object } }) => ({
        name: rule.name,
        type: rule.custom.type,
        ...rule.custom.metadata,
      }));
      expect(rules).toEqual([
        expect.objectContaining({ queueName: "scan-requests", messageCount: env.SCANNER_CONCURRENCY }),
        expect.objectContaining({ queueName: "scan-requests-sweep", activationMessageCount: "0" }),
      ]);
      expect(env.SCAN_REQUESTS_SWEEP_QUEUE).toBe("scan-requests-sweep");
      // KEDA asks ceil(waiting / messageCount) replicas per rule; the defaults (sweepMaxReplicas 2,
      // sweepMaxBacklog 5000) put the sweep's cap at 5000 waiting sweep requests.
      const sweepPerReplica = Number(rules[1].messageCount);
      expect(sweepPerReplica).toBe(2500);
      expect(Math.ceil(5000 / sweepPerReplica)).toBe(2);
      expect(scale.maxReplicas).toBeGreaterThan(2);
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

/** The event subscription on `subscriptionId`'s system topic: writes and deletes, to the central hub. */
function expectContainerChangesToHub(snapshot: DeploymentSnapshot, subscriptionId: string) {
  const subscription = snapshot.predictedResources.find(
    (r) =>
      r.type === "Microsoft.EventGrid/systemTopics/eventSubscriptions" &&
      r.id.startsWith(`/subscriptions/${subscriptionId}/resourceGroups/rg-qcs/`),
  );
  expect(subscription?.properties.filter).toEqual({
    includedEventTypes: [
      "Microsoft.Resources.ResourceWriteSuccess",
      "Microsoft.Resources.ResourceDeleteSuccess",
    ],
    advancedFilters: [
      {
        operatorType: "StringIn",
        key: "data.operationName",
        values: [
          "Microsoft.ContainerInstance/containerGroups/write",
          "Microsoft.App/containerApps/write",
          "Microsoft.App/jobs/write",
          "Microsoft.ContainerInstance/containerGroups/delete",
          "Microsoft.App/containerApps/delete",
          "Microsoft.App/jobs/delete",
        ],
      },
    ],
  });
  const hub = snapshot.predictedResources.find((r) => r.type === "Microsoft.EventHub/namespaces/eventhubs");
  expect(hub?.id).toMatch(new RegExp(`^${MAIN_RG}/`));
  expect(subscription?.properties.deliveryWithResourceIdentity).toEqual({
    identity: {
      type: "UserAssigned",
      userAssignedIdentity: `${MAIN_RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-qcs-eventgrid`,
    },
    destination: { endpointType: "EventHub", properties: { resourceId: hub?.id } },
  });
}

describe.skipIf(!bicep.available)(
  `Azure deployment monitoring two subscriptions (${bicep.available ? "bicep snapshot" : `skipped: ${bicep.reason}`})`,
  async () => {
    // As `deploy.sh --subscriptions ...` exports it; HOME a second time, in upper case, is watched once.
    const snapshot: DeploymentSnapshot = bicep.available
      ? await deploymentSnapshot(bicep.path, await pinnedBicepVersion(), {
          MONITORED_SUBSCRIPTION_IDS: `${OTHER},${HOME},${HOME.toUpperCase()}`,
        })
      : { predictedResources: [], diagnostics: [] };
    const { ofType, roleAssignments, roleName, grants } = plan(snapshot);
    const inSubscription = (type: string, subscriptionId: string) =>
      ofType(type).filter((r) => r.id.startsWith(`/subscriptions/${subscriptionId}/`));

    it("plans without a diagnostic, with one central hub, queue and set of apps", () => {
      expect(snapshot.diagnostics).toEqual([]);
      for (const type of [
        "Microsoft.EventHub/namespaces/eventhubs",
        "Microsoft.ServiceBus/namespaces",
        "Microsoft.KeyVault/vaults",
      ]) {
        expect(ofType(type).map((r) => r.id.split("/")[2])).toEqual([HOME]);
      }
      expect(ofType("Microsoft.App/containerApps")).toHaveLength(3);
      // One sweep job lists both subscriptions with a single Resource Graph query.
      const [job, ...others] = ofType("Microsoft.App/jobs");
      expect(others).toEqual([]);
      const env = job?.properties.template.containers[0].env as { name: string; value: string }[];
      expect(env.find((variable) => variable.name === "SWEEP_SUBSCRIPTIONS")?.value).toBe(`${OTHER},${HOME}`);
    });

    it.each([OTHER, HOME])(
      "streams the Activity Log of subscription %s to the central hub",
      (subscriptionId) => {
        const settings = ofType("Microsoft.Insights/diagnosticSettings").filter((s) =>
          s.id.startsWith(
            `/subscriptions/${subscriptionId}/providers/Microsoft.Insights/diagnosticSettings/`,
          ),
        );
        expect(settings).toHaveLength(1);
        expect(settings[0]?.properties).toEqual({
          eventHubAuthorizationRuleId: ofType("Microsoft.EventHub/namespaces/authorizationRules")[0]?.id,
          eventHubName: "activity-log",
          logs: [{ category: "Administrative", enabled: true }],
        });
      },
    );

    it.each([OTHER, HOME])(
      "gives subscription %s a system topic delivering container writes and deletes to the central hub",
      (subscriptionId) => {
        const topics = inSubscription("Microsoft.EventGrid/systemTopics", subscriptionId);
        expect(topics).toHaveLength(1);
        expect(topics[0]?.id).toMatch(new RegExp(`^/subscriptions/${subscriptionId}/resourceGroups/rg-qcs/`));
        expect(topics[0]?.properties.source).toBe(`/subscriptions/${subscriptionId}`);
        expect(Object.keys(topics[0]?.identity?.userAssignedIdentities ?? {})).toEqual([
          `${MAIN_RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-qcs-eventgrid`,
        ]);
        expectContainerChangesToHub(snapshot, subscriptionId);
      },
    );

    it("lets ingest read container workloads and the scanner pull images in both, and Event Grid send with one role", () => {
      const granted = grants();
      expect(granted["id-qcs-ingest"]?.filter((g) => g.includes("subscriptions/"))).toEqual([
        `workloadReader on subscriptions/${HOME}`,
        `workloadReader on subscriptions/${OTHER}`,
      ]);
      expect(granted["id-qcs-scanner"]?.filter((g) => g.includes("subscriptions/"))).toEqual([
        `acrPull on subscriptions/${HOME}`,
        `acrPull on subscriptions/${OTHER}`,
      ]);
      expect(roleAssignments.filter((a) => roleName(a.properties.roleDefinitionId) === "reader")).toEqual([]);
      const [definition] = ofType("Microsoft.Authorization/roleDefinitions");
      expect(definition?.properties.assignableScopes).toEqual([
        `/subscriptions/${HOME}`,
        `/subscriptions/${OTHER}`,
      ]);
      expect(granted["id-qcs-eventgrid"]).toEqual(["eventHubsDataSender on eventhubs/activity-log"]);
    });
  },
);

describe.skipIf(!bicep.available)(
  `Azure deployment with notifications (${bicep.available ? "bicep snapshot" : `skipped: ${bicep.reason}`})`,
  async () => {
    const snapshot: DeploymentSnapshot = bicep.available
      ? await deploymentSnapshot(bicep.path, await pinnedBicepVersion(), { QCS_NOTIFICATIONS: "true" })
      : { predictedResources: [], diagnostics: [] };
    const { ofType, grants } = plan(snapshot);

    it("gives the recorder its webhooks and signing secret from Key Vault, readable by the recorder only", () => {
      expect(snapshot.diagnostics).toEqual([]);
      const recorder = ofType("Microsoft.App/containerApps").find((app) => app.name.endsWith("-recorder"));
      const env = recorder?.properties.template.containers[0].env as Array<{
        name: string;
        secretRef?: string;
      }>;
      expect(env.filter((e) => e.name.startsWith("NOTIFY_"))).toEqual([
        { name: "NOTIFY_WEBHOOKS", secretRef: "notify-webhooks" },
        { name: "NOTIFY_WEBHOOK_SECRET", secretRef: "notify-webhook-secret" },
      ]);
      const readers = Object.entries(grants())
        .filter(([, list]) => list.some((grant) => /on secrets\/notify-/.test(grant)))
        .map(([principal, list]) => [principal, list.filter((grant) => /on secrets\/notify-/.test(grant))]);
      expect(readers).toEqual([
        [
          "id-qcs-recorder",
          [
            "keyVaultSecretsUser on secrets/notify-webhook-secret",
            "keyVaultSecretsUser on secrets/notify-webhooks",
          ],
        ],
      ]);
    });
  },
);
