// Shared bits of the real-client tests (tests/clients/*.test.mjs): where the installed
// clients are, how to run one as a child process, and how to check an image_url.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT, fetchCheckedImage } from "../e2e/harness.mjs";

export const CLIENTS_DIR = path.dirname(fileURLToPath(import.meta.url));
export const VENV_PYTHON = path.join(ROOT, ".venv-clients", "bin", "python");
export const PY_CLIENT = path.join(CLIENTS_DIR, "python", "mcp_client.py");
export const INSPECTOR_BIN = path.join(CLIENTS_DIR, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");
export const CONFORMANCE_BIN = path.join(CLIENTS_DIR, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");

/** Throws a clear error if tests/clients/setup.sh has not been run. */
export function requireInstalled() {
  const missing = [VENV_PYTHON, INSPECTOR_BIN, CONFORMANCE_BIN].filter((p) => !existsSync(p));
  if (missing.length) {
    throw new Error(
      `client test dependencies are not installed (missing ${missing.map((p) => path.relative(ROOT, p)).join(", ")}): ` +
        "run `bash tests/clients/setup.sh` first",
    );
  }
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 22) throw new Error(`Node >= 22 needed, this is ${process.version}`);
}

/**
 * Runs a command; resolves { code, signal, stdout, stderr, ms } (never rejects on a
 * non-zero exit). Kills it after `timeout` ms (then code is null, timedOut true).
 */
export function run(cmd, args, { env = {}, timeout = 120000, cwd = CLIENTS_DIR } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const childEnv = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env };
    delete childEnv.NODE_TEST_CONTEXT; // set by `node --test`; the clients are not test files
    const child = spawn(cmd, args, {
      cwd,
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeout);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

/** A short transcript of a finished command, for assertion messages. */
export function describeRun(label, r) {
  const cut = (s, n = 4000) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);
  return `${label}: exit ${r.code}${r.signal ? ` (${r.signal})` : ""}${r.timedOut ? " TIMED OUT" : ""} after ${r.ms} ms\n--- stdout\n${cut(r.stdout)}\n--- stderr\n${cut(r.stderr)}`;
}

/** The last line of stdout parsed as JSON (clients print one JSON document). */
export function lastJson(label, r) {
  const text = r.stdout.trim();
  for (const candidate of [text, text.split("\n").pop()]) {
    try {
      return JSON.parse(candidate);
    } catch {}
  }
  throw new Error(`${label} did not print JSON\n${describeRun(label, r)}`);
}

/** A fresh HOME for one client run (Inspector keeps state under ~/.mcp-inspector). */
export function tempHome() {
  const dir = mkdtempSync(path.join(tmpdir(), "mcp-clients-home-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * GET an image URL (any origin on loopback: the worker or a proxy in front of it) and
 * check that the bytes are a JPEG or PNG matching the content-type. Returns { format, size, contentType }.
 */
export async function fetchRealImage(imageUrl) {
  const u = new URL(imageUrl);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) {
    throw new Error(`image_url ${imageUrl} does not point at the local worker`);
  }
  const { bytes, format, contentType } = await fetchCheckedImage(imageUrl);
  return { format, size: bytes.length, contentType };
}
