/** The iptables backend without ipset (rules tagged with their expiry), in network namespaces (root). */
import { describeScenarios } from "./scenarios.ts";

describeScenarios({
  name: "iptables, tagged rules",
  backend: "iptables",
  ipset: false,
  tools: ["iptables", "ip6tables"],
});
