// Validates the OpenAPI document named on the command line (schema and $refs) with @apidevtools/swagger-parser.
import SwaggerParser from "@apidevtools/swagger-parser";

const file = process.argv[2];
try {
  const api = await SwaggerParser.validate(file);
  const operations = Object.values(api.paths).reduce((n, item) => n + Object.keys(item).filter(k => k !== "parameters").length, 0);
  console.log(`valid: ${api.info.title} ${api.info.version}, OpenAPI ${api.openapi}, ${operations} operations`);
} catch (e) {
  console.error(`invalid: ${e.message}`);
  process.exit(1);
}
