/**
 * SDK errors as one line an operator can act on. The SDK's own message stays available as the
 * cause (printed with --verbose).
 */
import { isServiceBusError } from "@azure/service-bus";
import { CliError, isCliError } from "../../core/cliError.ts";
import { errorSummary, isNetworkError } from "../errorText.ts";

export function translateServiceBusError(error: unknown, entity: string): CliError {
  if (isCliError(error)) return error;
  if (isNetworkError(error)) {
    return new CliError("UNAVAILABLE", `cannot reach Service Bus: ${errorSummary(error)}`, { cause: error });
  }
  if (isServiceBusError(error)) {
    switch (error.code) {
      case "MessagingEntityNotFound":
        return new CliError("NOT_FOUND", `${entity} does not exist in this Service Bus namespace`, {
          cause: error,
        });
      case "UnauthorizedAccess":
        return new CliError(
          "UNAVAILABLE",
          `not authorized for ${entity}: check the credential's Service Bus role`,
          {
            cause: error,
          },
        );
      case "ServiceCommunicationProblem":
        return new CliError("UNAVAILABLE", `cannot reach Service Bus: ${errorSummary(error)}`, {
          cause: error,
        });
      case "ServiceTimeout":
      case "ServiceBusy":
        return new CliError(
          "UNAVAILABLE",
          `Service Bus did not answer in time for ${entity} (${error.code})`,
          {
            cause: error,
          },
        );
      default:
        return new CliError("UNAVAILABLE", `${entity}: ${error.code}: ${errorSummary(error)}`, {
          cause: error,
        });
    }
  }
  return new CliError("UNAVAILABLE", `${entity}: ${errorSummary(error)}`, { cause: error });
}
