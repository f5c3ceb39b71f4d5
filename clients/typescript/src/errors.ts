import { ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  ErrorInfoSchema,
  HelpSchema,
  RetryInfoSchema,
  type BadRequest,
  type BadRequest_FieldViolation,
  type ErrorInfo,
  type Help_Link,
  type RetryInfo,
} from "./gen/google/rpc/error_details_pb.js";

function details<T>(err: unknown, find: (e: ConnectError) => T[]): T[] {
  return err instanceof ConnectError ? find(err) : [];
}

/** The google.rpc.ErrorInfo of a failed call, if the server attached one. */
export function errorInfo(err: unknown): ErrorInfo | undefined {
  return details(err, (e) => e.findDetails(ErrorInfoSchema))[0];
}

/**
 * The machine-readable reason of a failed call (ErrorInfo.reason, e.g. "RUN_NOT_FOUND",
 * "MISSING_PARAMETERS"), or "" when the error carries no ErrorInfo (as in every client).
 */
export function reason(err: unknown): string {
  return errorInfo(err)?.reason ?? "";
}

/** The google.rpc.BadRequest of a refused call (INVALID_ARGUMENT), if any. */
export function badRequest(err: unknown): BadRequest | undefined {
  return details(err, (e) => e.findDetails(BadRequestSchema))[0];
}

/** The field violations of a google.rpc.BadRequest detail (INVALID_ARGUMENT errors). */
export function fieldViolations(err: unknown): BadRequest_FieldViolation[] {
  return details(err, (e) => e.findDetails(BadRequestSchema)).flatMap((b) => b.fieldViolations);
}

/** The troubleshooting links of google.rpc.Help details. */
export function helpLinks(err: unknown): Help_Link[] {
  return details(err, (e) => e.findDetails(HelpSchema)).flatMap((h) => h.links);
}

/** The google.rpc.RetryInfo of a failed call (e.g. with RESOURCE_EXHAUSTED), if any. */
export function retryInfo(err: unknown): RetryInfo | undefined {
  return details(err, (e) => e.findDetails(RetryInfoSchema))[0];
}

/**
 * The names of the pipeline parameters a MISSING_PARAMETERS error lists (its field violations
 * `parameters[<name>]`), e.g. `["name"]` for greet without a name.
 */
export function missingParameters(err: unknown): string[] {
  return fieldViolations(err).flatMap((v) => {
    const match = /^parameters\[(.*)\]$/.exec(v.field);
    return match ? [match[1]!] : [];
  });
}

/** The RetryInfo delay of a failed call in ms (sent with RESOURCE_EXHAUSTED / AWS_THROTTLED), if any. */
export function retryDelay(err: unknown): number | undefined {
  const delay = retryInfo(err)?.retryDelay;
  return delay ? Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1e6) : undefined;
}
