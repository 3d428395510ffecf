/** The iptables backend with ipset (kernel timeouts), in network namespaces (root). */
import { describeScenarios } from "./scenarios.ts";

describeScenarios({
  name: "iptables + ipset",
  backend: "iptables",
  ipset: true,
  tools: ["iptables", "ip6tables", "ipset"],
});
