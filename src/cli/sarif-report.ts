import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding, Severity } from '../shared/analysis/finding';
import type { Report } from '../shared/analysis/report';
import { RULE_LIST, type AnyRule } from '../shared/analysis/rules/registry';
import { helpFor } from '../shared/analysis/rules/rule';
import { displaySafe } from '../shared/format';

/**
 * The report as SARIF 2.1.0 (OASIS), for code scanning: one run whose driver lists every rule Loss Lens
 * knows, and one result per finding at its source position, relative to `root` (default: the cwd).
 */
export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
export const TOOL_URI = 'https://example.invalid/loss-lens';
const ROOT_ID = '%SRCROOT%';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

const text = (s: string) => ({ text: displaySafe(s, { keepNewlines: true }) });

/** A rule as SARIF's `tool.driver.rules` lists it: all of it from the rule's own file, its help in the run's language. */
export const sarifRule = (rule: AnyRule, framework: Report['framework'] = 'tfjs') => ({
  id: rule.id,
  name: rule.name,
  shortDescription: text(rule.summary),
  fullDescription: text(helpFor(rule, framework)),
  help: text(helpFor(rule, framework)),
  defaultConfiguration: { level: LEVEL[rule.severity] },
});

interface Artifact {
  uri: string;
  uriBaseId?: string;
}

/** The path flavour of the machine the report is for: win32 paths (drive letters, UNC) or POSIX ones. */
type PathFlavour = typeof path.posix | typeof path.win32;
const host: PathFlavour = process.platform === 'win32' ? path.win32 : path.posix;

/** A file as a URI, in the flavour's rules (C:\a b\x.ts → file:///C:/a%20b/x.ts, \\server\share\x.ts → file://server/share/x.ts). */
export function fileUri(file: string, p: PathFlavour = host): string {
  return pathToFileURL(file, { windows: p === path.win32 }).href;
}

/** A path as SARIF wants it: relative to the root with forward slashes when inside it, else an absolute file URI. */
export function artifactLocation(file: string, root: string, p: PathFlavour = host): Artifact {
  const rel = p.relative(root, file);
  if (rel && !rel.startsWith('..') && !p.isAbsolute(rel)) {
    return { uri: rel.split(p.sep).map(encodeURIComponent).join('/'), uriBaseId: ROOT_ID };
  }
  return { uri: fileUri(file, p) };
}

/** The root as a base URI: always ends with a slash, as SARIF's originalUriBaseIds require. */
export function rootUri(root: string, p: PathFlavour = host): string {
  const uri = fileUri(root, p);
  return uri.endsWith('/') ? uri : `${uri}/`;
}

function location(f: Finding, report: Report, root: string) {
  const file = f.source?.file ?? report.script;
  const region = f.source ? { startLine: f.source.line, startColumn: f.source.column } : { startLine: 1 };
  return { physicalLocation: { artifactLocation: artifactLocation(file, root), region } };
}

/**
 * The key of our partial fingerprint (SARIF §3.27.17: a versioned hierarchical string; bump the version when
 * what goes into it changes). Not `primaryLocationLineHash`: GitHub reserves that one for its own hash of the
 * line's text, and checks a value it did not compute against it.
 */
export const FINGERPRINT_KEY = 'lossLens/v1';

/**
 * One stable identity per result, so that code scanning keeps an alert (and its dismissal) when lines move: the
 * rule, the file as the SARIF names it, and what the finding is about (layer, weight, term), never a line or a
 * column. Results that would still share one (two build errors in one file) get `:2`, `:3` in report order.
 */
export function partialFingerprints(findings: readonly Finding[], uris: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return findings.map((f, i) => {
    const hash = createHash('sha256')
      .update(JSON.stringify([f.ruleId, uris[i], f.layer, f.weight, f.termId]))
      .digest('hex')
      .slice(0, 32);
    const n = (seen.get(hash) ?? 0) + 1;
    seen.set(hash, n);
    return `${hash}:${n}`;
  });
}

/** Names from the script, as properties: the same escapes as messages, so no bidi control reorders them in a viewer. */
const safeName = (s: string | null) => (s === null ? null : displaySafe(s));

export function renderSarif(report: Report, root: string): string {
  const ids: string[] = RULE_LIST.map((r) => r.id);
  const locations = report.findings.map((f) => location(f, report, root));
  const fingerprints = partialFingerprints(report.findings, locations.map((l) => l.physicalLocation.artifactLocation.uri));
  const sarif = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Loss Lens',
            version: report.tool.version,
            semanticVersion: report.tool.version,
            informationUri: TOOL_URI,
            rules: RULE_LIST.map((rule) => sarifRule(rule, report.framework)),
          },
        },
        originalUriBaseIds: { [ROOT_ID]: { uri: rootUri(root) } },
        invocations: [
          {
            // A run that could not be built or run is a failed execution, whatever the findings say.
            executionSuccessful: report.status !== 'failed',
            ...(report.error ? { toolExecutionNotifications: [{ level: 'error', message: text(`${report.error.name}: ${report.error.message}`) }] } : {}),
          },
        ],
        results: report.findings.map((f, i) => ({
          ruleId: f.ruleId,
          ruleIndex: ids.indexOf(f.ruleId),
          level: LEVEL[f.severity],
          message: text(f.message),
          locations: [locations[i]],
          partialFingerprints: { [FINGERPRINT_KEY]: fingerprints[i] },
          ...(f.layer || f.weight || f.step !== null
            ? { properties: { layer: safeName(f.layer), weight: safeName(f.weight), step: f.step, termId: safeName(f.termId) } }
            : {}),
        })),
        properties: { status: report.status, steps: report.steps, script: displaySafe(report.script) },
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}
