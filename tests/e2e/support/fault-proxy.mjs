// Fault-injecting front for the built worker (e2e only; loaded by startHarness({faults: true})
// as the main module in front of build/entry.mjs, never deployed).
//
// Every fetch, queue and scheduled event runs the real server with env.DB, env.R2_BUCKET,
// env.IMAGE_QUEUE and env.IMAGES (when bound) wrapped in proxies that consult the current fault
// rules first; env.AI and the vars pass through untouched. A test sets the rules with POST
// /__e2e_faults {rules: [...]} and reads what was injected with GET /__e2e_faults. A rule:
//   {binding: "DB" | "R2" | "QUEUE" | "IMAGES", method?, match?, skip?, times?, error?}
// method: DB "run" | "all" | "first" | "raw" | "batch"; R2 "put" | "get" | "head" | "delete" |
// "list"; QUEUE "send" | "sendBatch"; IMAGES "input" (any method when absent). match: a
// substring of the SQL (a batch: its statements joined with " ; "), the R2 key(s) or the message
// JSON (IMAGES: none, so a rule with match never fires). maxValueBytes (DB only): the rule fires
// only for a statement (or a batch holding one) with a bound value longer than this many bytes,
// which emulates D1's row size limit (Miniflare's local D1 stores any size). skip: matching
// calls to let through first (default 0). times: calls to fail (default 1; -1 = every one). A failing call rejects
// with Error(error ?? "injected <binding> <method> failure") without touching the real binding,
// the way a binding that is down fails; IMAGES.input, synchronous, throws it. GET also returns
// `imageCalls`: every IMAGES input → transform → output chain, with the options asked for.
import { WorkerEntrypoint } from "cloudflare:workers";
import Server from "./entry.mjs";
import { segmentForeground } from "./e2e-segment-standin.mjs";

const CONTROL_PATH = "/__e2e_faults";

let rules = [];
const hits = [];
const RAW = Symbol("raw binding object");
const SQL = Symbol("sql text");

function injected(binding, method, detail, largestValue = 0) {
  for (const rule of rules) {
    if (rule.binding !== binding) continue;
    if (rule.method && rule.method !== method) continue;
    if (rule.match && !detail.includes(rule.match)) continue;
    if (rule.maxValueBytes !== undefined && largestValue <= rule.maxValueBytes) continue;
    if (rule.times === 0) continue;
    if (rule.skip > 0) {
      rule.skip -= 1;
      continue;
    }
    if (rule.times > 0) rule.times -= 1;
    hits.push({ binding, method, detail: detail.slice(0, 300), at: Date.now() });
    return new Error(rule.error ?? `injected ${binding} ${method} failure`);
  }
  return null;
}

/** A proxy whose listed methods go through `call(name, original, args)`; other functions are bound. */
function intercept(target, methods, call) {
  return new Proxy(target, {
    get(obj, prop) {
      if (prop === RAW) return obj;
      const value = Reflect.get(obj, prop, obj);
      if (typeof value !== "function" || prop === "constructor") return value;
      if (methods.includes(prop)) return (...args) => call(prop, value.bind(obj), args);
      return value.bind(obj);
    },
  });
}

const encoder = new TextEncoder();
/** Bytes of the longest bound value (text as UTF-8, binary as is). */
function largestOf(values) {
  let largest = 0;
  for (const value of values) {
    const bytes = typeof value === "string" ? encoder.encode(value).length : (value?.byteLength ?? 0);
    largest = Math.max(largest, bytes);
  }
  return largest;
}

function statement(stmt, sql, largest = 0) {
  const proxy = intercept(stmt, ["bind", "run", "all", "first", "raw"], (method, original, args) => {
    if (method === "bind") return statement(original(...args), sql, largestOf(args));
    const error = injected("DB", method, sql, largest);
    return error ? Promise.reject(error) : original(...args);
  });
  sqlTexts.set(proxy, sql);
  largestValues.set(proxy, largest);
  return proxy;
}

const sqlTexts = new WeakMap();
const largestValues = new WeakMap();
const sqlOf = (stmt) => sqlTexts.get(stmt) ?? "?";

function database(db) {
  return intercept(db, ["prepare", "batch"], (method, original, args) => {
    if (method === "prepare") return statement(original(...args), args[0]);
    const statements = args[0];
    const largest = Math.max(0, ...statements.map((s) => largestValues.get(s) ?? 0));
    const error = injected("DB", "batch", statements.map(sqlOf).join(" ; "), largest);
    if (error) return Promise.reject(error);
    return original(statements.map((s) => s[RAW] ?? s), ...args.slice(1));
  });
}

function bucket(r2) {
  return intercept(r2, ["put", "get", "head", "delete", "list"], (method, original, args) => {
    const key = Array.isArray(args[0]) ? args[0].join(",") : String(args[0] ?? "");
    const error = injected("R2", method, key);
    return error ? Promise.reject(error) : original(...args);
  });
}

function queue(producer) {
  return intercept(producer, ["send", "sendBatch"], (method, original, args) => {
    const error = injected("QUEUE", method, JSON.stringify(args[0]));
    return error ? Promise.reject(error) : original(...args);
  });
}

// Every IMAGES chain the server ran: {transforms: [options...], output: options, at}. Miniflare
// runs only rotate and resize locally and ignores other transforms (`segment: "foreground"`), so
// the tests read here which transform the server asked for.
const imageCalls = [];

function transformer(chain, call) {
  return intercept(chain, ["transform", "output"], (method, original, args) => {
    if (method === "transform") {
      call.transforms.push(structuredClone(args[0] ?? {}));
      return transformer(original(...args), call);
    }
    call.output = structuredClone(args[0] ?? {});
    const segmented = call.transforms.some((t) => t.segment === "foreground") && call.output.format === "image/png";
    return segmented ? withForeground(original(...args)) : original(...args);
  });
}

/** The binding's result with the segment stand-in applied (support/segment-standin.mjs). */
async function withForeground(result) {
  const resolved = await result;
  const png = await segmentForeground(new Uint8Array(await (await resolved.response()).arrayBuffer()));
  return {
    contentType: () => "image/png",
    response: () => new Response(png, { headers: { "content-type": "image/png" } }),
    image: () => new Response(png).body,
  };
}

function images(binding) {
  return intercept(binding, ["input"], (method, original, args) => {
    const error = injected("IMAGES", method, "");
    if (error) throw error;
    const call = { transforms: [], output: null, at: Date.now() };
    imageCalls.push(call);
    return transformer(original(...args), call);
  });
}

function wrapEnv(env) {
  return {
    ...env,
    DB: database(env.DB),
    R2_BUCKET: bucket(env.R2_BUCKET),
    IMAGE_QUEUE: queue(env.IMAGE_QUEUE),
    ...(env.IMAGES && typeof env.IMAGES === "object" ? { IMAGES: images(env.IMAGES) } : {}),
  };
}

export default class FaultProxy extends WorkerEntrypoint {

  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === CONTROL_PATH) {
      if (request.method === "POST") {
        const body = await request.json();
        rules = (body.rules ?? []).map((rule) => ({ skip: 0, times: 1, ...rule }));
        hits.length = 0;
      }
      return Response.json({ rules, hits, imageCalls });
    }
    return Server.fetch(request, wrapEnv(this.env), this.ctx);
  }

  queue(batch) {
    return Server.queue(batch, wrapEnv(this.env), this.ctx);
  }

  scheduled(controller) {
    return Server.scheduled(controller, wrapEnv(this.env), this.ctx);
  }
}
