// Usage: node check.mjs <schemas dir (shared/schemas/adf)> <pipelines/adf dir>
// Validates each file's `properties` against Microsoft.DataFactory.json#/definitions/<Kind>, pipelines also against the strict overlay.
import Ajv from "ajv-draft-04";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const [schemas, adf] = process.argv.slice(2);
const read = p => JSON.parse(readFileSync(p, "utf8"));
const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
ajv.addSchema(read(join(schemas, "microsoft/common/definitions.json")), "https://schema.management.azure.com/schemas/common/definitions.json");
ajv.addSchema(read(join(schemas, "microsoft/2018-06-01/Microsoft.DataFactory.json")), "https://schema.management.azure.com/schemas/2018-06-01/Microsoft.DataFactory.json");
const ms = d => ajv.getSchema(`https://schema.management.azure.com/schemas/2018-06-01/Microsoft.DataFactory.json#/definitions/${d}`);
const kinds = { factory: ms("FactoryProperties"), linkedService: ms("LinkedService"), pipeline: ms("Pipeline"), trigger: ms("Trigger"), dataset: ms("Dataset") };
const overlay = ajv.compile(read(join(schemas, "local/adf-strict-overlay.schema.json")));
let files = 0, bad = 0;
for (const [kind, validate] of Object.entries(kinds)) {
  const dir = join(adf, kind);
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir).filter(n => n.endsWith(".json")).sort()) {
    files++;
    const doc = read(join(dir, f));
    for (const [name, v] of [["microsoft", validate], ...(kind === "pipeline" ? [["overlay", overlay]] : [])]) {
      if (!v(doc.properties)) { bad++; console.log(`${kind}/${f}: ${name}: ${ajv.errorsText(v.errors)}`); }
    }
  }
}
console.log(`${files} files, ${bad} failures`);
process.exit(bad === 0 && files > 0 ? 0 : 1);
