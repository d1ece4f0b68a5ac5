import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { FIXTURES } from './events';

/** A validator for the published SARIF 2.1.0 schema (a draft-04 JSON schema, hence ajv-draft-04; one of its patterns is not valid with the u flag). */
export function sarifValidator(): (doc: unknown) => string[] {
  const schema = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'sarif', 'sarif-schema-2.1.0.json'), 'utf8'));
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  // URIs and timestamps are checked too, not just shapes.
  addFormats(ajv as never);
  const validate = ajv.compile(schema);
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`));
}
