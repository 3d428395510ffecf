/**
 * The one exception class of `@portknock/cluster` (STYLE.md §5): a bad option.
 */
import { PortknockError } from "@portknock/core";
import type { ClusterCode } from "./codes.ts";

/** Thrown for a bad option (`CLUSTER_BAD_*`) or a call out of order (`CLUSTER_GRANT_BUS_CLOSED`); Redis failures are results, never exceptions. */
export class ClusterError extends PortknockError<ClusterCode> {
  override name = "ClusterError";
}
