/** The nftables backend against the real `nft`, in network namespaces (root). */
import { describeScenarios } from "./scenarios.ts";

describeScenarios({
  name: "nftables",
  backend: "nftables",
  ipset: false,
  tools: ["nft"],
});
