import { findBacktrackingHazard } from "@portknock/core";
import { describe, expect, it } from "vitest";
import { IPTABLES_REGEX_SOURCES } from "./builtin-iptables.ts";

describe("the built-in iptables format", () => {
  it("passes the backtracking check with every regex", () => {
    for (const source of Object.values(IPTABLES_REGEX_SOURCES)) {
      expect(findBacktrackingHazard(source), source).toBeUndefined();
    }
  });
});
