export {
  rootTestsUnavailable,
  gateRootTests,
  createNetns,
  execIn,
} from "./netns.ts";
export type { Netns } from "./netns.ts";
export { spawnTcpdump } from "./tcpdump.ts";
export type { Tcpdump } from "./tcpdump.ts";
export { describeCodesTable } from "./codes-table.ts";
export { CLIENT, createGatewayTopology, GW, PORTS } from "./gateway.ts";
export type { GatewayRunner, GatewayTopology, ProbeResult } from "./gateway.ts";
export { redisUnavailable, startRedis } from "./redis-server.ts";
export type { TestRedis } from "./redis-server.ts";
