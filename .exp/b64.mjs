import { Miniflare, Log, LogLevel } from "miniflare";
const src = `export default { fetch() { return new Response(typeof Uint8Array.fromBase64 + " " + (typeof Uint8Array.fromBase64 === "function" ? Uint8Array.fromBase64("aGk=").length : "")); } };`;
const mf = new Miniflare({ log: new Log(LogLevel.NONE), workers: [{ config: { name: "w", compatibilityDate: "2025-09-01", manifest: { mainModule: "w.mjs", modules: { "w.mjs": { type: "esm", contents: src } } } } }] });
const r = await mf.dispatchFetch("http://x/"); console.log(await r.text()); await mf.dispose();
