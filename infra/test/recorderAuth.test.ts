// The status page's sign-in in Azure, from `bicep snapshot` (no Azure needed): off by default (the page
// takes the recorder key), and with an app registration's client ID, Container Apps' built-in
// authentication with Entra ID in front of the recorder, which the recorder is told to trust.
import { describe, expect, it } from "vitest";
import { locateBicep, pinnedBicepVersion } from "./support/bicep.ts";
import { type DeploymentSnapshot, deploymentSnapshot, SNAPSHOT_SCOPE } from "./support/snapshot.ts";

const bicep = await locateBicep();
const CLIENT_ID = "22222222-3333-4444-5555-666666666666";
const EMPTY: DeploymentSnapshot = { predictedResources: [], diagnostics: [] };

const snapshot = async (env: Record<string, string> = {}) =>
  bicep.available ? deploymentSnapshot(bicep.path, await pinnedBicepVersion(), env) : EMPTY;
const authConfigs = (plan: DeploymentSnapshot) =>
  plan.predictedResources.filter((resource) => resource.type === "Microsoft.App/containerApps/authConfigs");
const pageAuth = (plan: DeploymentSnapshot) => {
  const recorder = plan.predictedResources.find(
    (resource) => resource.type === "Microsoft.App/containerApps" && resource.name.endsWith("-recorder"),
  );
  const env = recorder?.properties.template.containers[0].env as Array<{ name: string; value?: string }>;
  return env.find((variable) => variable.name === "RECORDER_PAGE_AUTH")?.value;
};

describe.skipIf(!bicep.available)(
  `status page sign-in in Azure (${bicep.available ? "bicep snapshot" : `skipped: ${bicep.reason}`})`,
  { timeout: 300_000 },
  () => {
    it("is the recorder key's login form by default: no built-in authentication", async () => {
      const plan = await snapshot();
      expect(authConfigs(plan)).toEqual([]);
      expect(pageAuth(plan)).toBe("key");
    });

    it("puts Entra ID sign-in in front of the recorder with the app registration given, the API still open to its key", async () => {
      const plan = await snapshot({ RECORDER_ENTRA_CLIENT_ID: CLIENT_ID });
      expect(plan.diagnostics).toEqual([]);
      const [auth, ...rest] = authConfigs(plan);
      expect(rest).toEqual([]);
      expect(auth?.name).toBe("ca-qcs-recorder/current");
      expect(auth?.properties).toMatchObject({
        platform: { enabled: true },
        globalValidation: { unauthenticatedClientAction: "AllowAnonymous" },
        httpSettings: { requireHttps: true },
        identityProviders: {
          azureActiveDirectory: {
            enabled: true,
            registration: {
              clientId: CLIENT_ID,
              // The snapshot leaves environment() (the cloud's login endpoint) unevaluated.
              openIdIssuer: expect.stringContaining(SNAPSHOT_SCOPE.tenantId),
            },
          },
        },
      });
      expect(pageAuth(plan)).toBe("entra");
    });
  },
);
