import { fileURLToPath } from "node:url";
import { describeCodesTable } from "@portknock/test-utils";
import { CLUSTER_CODES } from "@portknock/cluster";

describeCodesTable(
  "cluster",
  fileURLToPath(new URL("../src/", import.meta.url)),
  CLUSTER_CODES,
);
