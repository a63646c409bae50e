// Helpers for the gallery tests (tests/e2e/14-gallery.test.mjs and tests/browser/): sign in
// over plain HTTP, read the session cookie, forge cookies with Node's own HMAC (an independent
// implementation of the documented format), and fill the gallery with real jobs.
import { createHmac } from "node:crypto";
import { callTool, uniq, FAIL_ALWAYS_MESSAGE } from "../harness.mjs";

export const COOKIE_NAME = "gallery_session";
export const SESSION_SECONDS = 12 * 60 * 60;
export const SIGNING_CONTEXT = "mcp-image-generator gallery session\n";
export const EXPECTED_CSP =
  "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** POST the sign-in form; never follows the redirect. Returns the raw Response. */
export function postLogin(h, fields, { headers = {} } = {}) {
  return h.fetch("/gallery/login", {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: h.origin, ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** The one Set-Cookie header of a response for our cookie, parsed: {value, attributes (lower-cased names)}. */
export function sessionSetCookie(res) {
  const cookies = res.headers.getSetCookie().filter((c) => c.startsWith(`${COOKIE_NAME}=`));
  if (cookies.length !== 1) return null;
  const [pair, ...attrs] = cookies[0].split(";").map((s) => s.trim());
  const attributes = {};
  for (const attr of attrs) {
    const [name, ...rest] = attr.split("=");
    attributes[name.toLowerCase()] = rest.length ? rest.join("=") : true;
  }
  return { raw: cookies[0], value: pair.slice(COOKIE_NAME.length + 1), attributes };
}

/** Signs in with the right token and returns the `Cookie` header value to send. */
export async function signIn(h) {
  const res = await postLogin(h, { token: h.token });
  await res.arrayBuffer();
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}, expected 303`);
  const cookie = sessionSetCookie(res);
  if (!cookie) throw new Error("sign-in set no session cookie");
  return `${COOKIE_NAME}=${cookie.value}`;
}

/** A cookie value in the server's format, signed here with Node's HMAC-SHA256. */
export function forgeCookieValue(key, { subject = "admin", expiresAt }) {
  const payload = `v1.${subject}.${expiresAt}`;
  const signature = createHmac("sha256", key).update(SIGNING_CONTEXT + payload).digest("hex");
  return `${payload}.${signature}`;
}

/** GET a gallery path with an optional cookie; returns {res, html}. */
export async function getPage(h, path, cookie) {
  const res = await h.fetch(path, { redirect: "manual", headers: cookie ? { Cookie: cookie } : {} });
  return { res, html: await res.text() };
}

export function isSignInForm(html) {
  return /<form method="post" action="\/gallery\/login">/.test(html) && /name="token"/.test(html);
}

/** The job ids of the tiles on a grid page, in page order. */
export function tileIds(html) {
  return [...html.matchAll(/<li class="tile[^"]*"><a class="thumb" href="\/gallery\/image\/([^"]+)"/g)].map((m) => m[1]);
}

/**
 * Real jobs through the real pipeline: one image per model (one prompt with markup in it), and
 * one job that always fails. Returns {completed: [{jobId, prompt, model}], failed: {jobId, prompt}}.
 */
export async function fillGallery(h, client) {
  const tag = uniq("gallery");
  const specs = [
    { model: "flux-schnell", prompt: `a lighthouse at dusk <script>alert("xss")</script> ${tag}` },
    { model: "sdxl-lightning", prompt: `a red fox in fresh snow ${tag}` },
    { model: "sdxl-base", prompt: `a bowl of ripe cherries & "quotes" ${tag}` },
  ];
  const completed = [];
  for (const spec of specs) {
    const { result, data } = await callTool(client, "generate_image_and_wait", spec);
    if (result.isError) throw new Error(`generating ${spec.model} failed: ${JSON.stringify(data)}`);
    const [job] = await h.query("SELECT id FROM generation_jobs WHERE prompt = ?", spec.prompt);
    completed.push({ jobId: job.id, prompt: spec.prompt, model: spec.model, imageUrl: data.image_url });
  }
  const failedPrompt = `a broken model run [fail-always] ${tag}`;
  const { data: started } = await callTool(client, "generate_image", { prompt: failedPrompt, model: "flux-schnell" });
  const row = await h.waitForJob(started.job_id, "failed", { timeout: 30000 });
  if (!row.error?.includes(FAIL_ALWAYS_MESSAGE)) throw new Error(`failed job's error is ${JSON.stringify(row.error)}`);
  return { completed, failed: { jobId: started.job_id, prompt: failedPrompt, error: row.error } };
}
