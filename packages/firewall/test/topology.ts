/**
 * The gateway/client namespaces of the firewall's root-only tests (issue #17): `@portknock/test-utils`'
 * `createGatewayTopology` with the firewall's own runner.
 */
import {
  createGatewayTopology,
  type GatewayTopology,
} from "@portknock/test-utils";
import { spawnArgv, type RunArgv } from "../src/index.ts";

export { CLIENT, GW, PORTS, type ProbeResult } from "@portknock/test-utils";

/** The topology, its `gwRun` a firewall `RunArgv`. */
export type Topology = GatewayTopology<
  Parameters<RunArgv>[1],
  ReturnType<RunArgv>
>;

/** Creates the topology (both namespaces are deleted when the test finishes). */
export function createTopology(): Promise<Topology> {
  return createGatewayTopology<Parameters<RunArgv>[1], ReturnType<RunArgv>>(
    spawnArgv(),
  );
}
