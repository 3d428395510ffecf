import { fileURLToPath } from "node:url";
import { describeCodesTable } from "@portknock/test-utils";
import { FIREWALL_CODES } from "../src/index.ts";

describeCodesTable(
  "@portknock/firewall",
  fileURLToPath(new URL("../src/", import.meta.url)),
  FIREWALL_CODES,
);
