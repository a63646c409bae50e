// One harness per describe block (or per file, at top level), started and disposed by
// node:test hooks, so the spec files do not each repeat their own before/after.
//
//   import { useHarness } from "./support/setup.mjs";
//
//   describe("…", () => {
//     const h = useHarness({ vars: { IMAGE_BACKEND: "preview" } });
//     let client;
//     before(async () => {
//       client = await h.mcpClient(); // runs after the harness started: hooks run in order
//     });
//     it("…", async () => { await h.fetch("/health"); });
//   });
//
// useHarness(options, { teardown }) registers, on the describe block it is called in (or on
// the file, at top level):
//   before: h = await startHarness(options)   (options exactly as startHarness takes them)
//   after:  await teardown?.(); await h.dispose()
// `teardown` is for what must go before the instance does (e.g. closing an SSE client the
// file opened itself; clients from h.mcpClient() are closed by dispose()). node:test runs a
// block's hooks in the order they were registered, so a before() registered after
// useHarness() sees a started harness, and an after() registered after it runs once the
// harness is gone.
//
// It returns a handle that stands for the harness: every property read, call, `in`,
// Object.keys and so on goes to the started harness. Using it before the `before` hook has
// run (e.g. in the describe body itself) throws, naming the cause.
//
// apiKeys({ alice: "token-a", bob: "token-b" }) gives the API_KEYS value "alice:token-a,bob:token-b".
//
// Kept out of harness.mjs, which bench/*.mjs import outside node:test.
import { before, after } from "node:test";
import { startHarness } from "../harness.mjs";

export function useHarness(options = {}, { teardown } = {}) {
  let harness;
  before(async () => {
    harness = await startHarness(options);
  });
  after(async () => {
    try {
      if (teardown) await teardown();
    } finally {
      await harness?.dispose();
    }
  });
  const started = (what) => {
    if (!harness) {
      throw new Error(
        `useHarness: ${what} before the harness started; use the handle inside it() or a before() hook registered after useHarness()`,
      );
    }
    return harness;
  };
  return new Proxy(
    {},
    {
      get(_target, prop) {
        // Not started yet: answer what `await`, util.inspect and the like probe for
        // (then, symbols) instead of throwing.
        if (!harness && (prop === "then" || typeof prop === "symbol")) return undefined;
        return Reflect.get(started(`reading h.${String(prop)}`), prop);
      },
      set(_target, prop, value) {
        return Reflect.set(started(`setting h.${String(prop)}`), prop, value);
      },
      has(_target, prop) {
        return Reflect.has(started(`checking "${String(prop)}" in h`), prop);
      },
      ownKeys() {
        return Reflect.ownKeys(started("listing h's keys"));
      },
      getOwnPropertyDescriptor(_target, prop) {
        const desc = Reflect.getOwnPropertyDescriptor(started(`describing h.${String(prop)}`), prop);
        // The proxy's own target is empty: report the property as configurable (a Proxy
        // invariant); the harness's properties are plain data properties anyway.
        return desc && { ...desc, configurable: true };
      },
    },
  );
}

/** The API_KEYS variable naming each key of `keys` ({ name: token }). */
export function apiKeys(keys) {
  return Object.entries(keys)
    .map(([name, token]) => `${name}:${token}`)
    .join(",");
}
