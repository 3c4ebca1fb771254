// Usage: node check.mjs <schemas dir (shared/schemas/adf)> <pipelines/adf dir> [ARM template (lakehouse adf export-arm --out FILE)]
// Validates each file's `properties` against Microsoft.DataFactory.json#/definitions/<Kind>, pipelines also against the strict overlay;
// an ARM template against local/adf-arm-template.schema.json (each resource against Microsoft's resourceDefinitions), and its
// dependsOn entries against the template's own resources.
import Ajv from "ajv-draft-04";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const [schemas, adf, template] = process.argv.slice(2);
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
if (template) {
  files++;
  const arm = ajv.compile(read(join(schemas, "local/adf-arm-template.schema.json")));
  const doc = read(template);
  if (!arm(doc)) { bad++; console.log(`${template}: arm-template: ${ajv.errorsText(arm.errors)}`); }
  // dependsOn names resources the way ADF's export does: [variables('factoryId')] or [concat(variables('factoryId'), '/kind/name')].
  const key = r => r.name === "[parameters('factoryName')]" ? "factory"
    : `${r.type.split("/").pop().toLowerCase()}/${(/'\/([^'\/]+)'\)\]$/.exec(r.name) ?? [])[1]}`;
  const keys = new Set(doc.resources.map(key));
  for (const r of doc.resources) {
    for (const d of r.dependsOn ?? []) {
      const m = /^\[concat\(variables\('factoryId'\), '\/([A-Za-z]+)\/([^'\/]+)'\)\]$/.exec(d);
      const k = d === "[variables('factoryId')]" ? "factory" : m ? `${m[1].toLowerCase()}/${m[2]}` : null;
      if (!k || !keys.has(k)) { bad++; console.log(`${template}: ${r.name}: dependsOn ${d} names no resource of the template`); }
    }
  }
}
console.log(`${files} files, ${bad} failures`);
process.exit(bad === 0 && files > 0 ? 0 : 1);
