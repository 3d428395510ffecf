import { fileURLToPath } from "node:url";
import { describeCodesTable } from "@portknock/test-utils";
import { CLUSTER_CODES } from "../src/index.ts";

describeCodesTable(
  "@portknock/cluster",
  fileURLToPath(new URL("../src/", import.meta.url)),
  CLUSTER_CODES,
);
