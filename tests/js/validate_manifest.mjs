// Validates a Teams app manifest with Microsoft's @microsoft/app-manifest package, against the
// JSON schema that package ships for the manifest's own version (read from disk, not fetched).
//
//   node validate_manifest.mjs manifest.json
//
// Prints one JSON object: the schema file used, the newest numbered schema version in the
// package, and the validation errors (empty when valid).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { AppManifestUtils } = require('@microsoft/app-manifest');

const manifest = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const schemas = path.join(
  path.dirname(require.resolve('@microsoft/app-manifest/package.json')),
  'build', 'json-schemas', 'teams',
);
const numbered = fs
  .readdirSync(schemas)
  .filter((name) => /^v\d+\.\d+$/.test(name))
  .map((name) => name.slice(1))
  .sort((a, b) => {
    const [am, an] = a.split('.').map(Number);
    const [bm, bn] = b.split('.').map(Number);
    return am - bm || an - bn;
  });
const schemaFile = path.join(schemas, `v${manifest.manifestVersion}`, 'MicrosoftTeams.schema.json');
// The same repair the package applies to schemas it fetches: "\a" is not a JavaScript regex escape.
const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8').replace(/\\a/g, '\\x07'));
const errors = await AppManifestUtils.validateAgainstSchema(manifest, schema);
process.stdout.write(
  JSON.stringify({ schemaFile: path.relative(process.cwd(), schemaFile), newest: numbered.at(-1), errors }),
);
