// The test host's page script, bundled by esbuild for the browser: the official host side of
// MCP Apps (`AppBridge` and `PostMessageTransport` from @modelcontextprotocol/ext-apps/app-bridge)
// showing one View in a sandbox proxy iframe on another origin. Tool calls, context updates and
// links the View asks for go to functions the test exposes from Node (`hostCallTool`,
// `hostRecord`), where the host's MCP client talks to the real worker.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

const HOST_INFO = { name: "viewer-test-host", version: "1.0.0" };
let current = null;

async function close() {
  if (!current) return;
  const { bridge, iframe } = current;
  current = null;
  await bridge.close().catch(() => {});
  iframe.remove();
}

/** Shows the View: `html` and `csp` from resources/read, then the tool's input and result. */
async function open({ html, csp, sandboxUrl, toolInput, toolResult, hostContext }) {
  await close();
  document.documentElement.classList.toggle("dark", hostContext?.theme === "dark");
  const iframe = document.createElement("iframe");
  iframe.setAttribute("sandbox", "allow-scripts allow-same-origin");
  iframe.title = "viewer";
  iframe.src = `${sandboxUrl}?csp=${encodeURIComponent(JSON.stringify(csp ?? {}))}`;
  document.getElementById("frame").appendChild(iframe);
  const bridge = new AppBridge(
    null,
    HOST_INFO,
    {
      openLinks: {},
      serverTools: {},
      updateModelContext: { text: {}, structuredContent: {} },
      sandbox: { csp },
    },
    { hostContext },
  );
  bridge.oncalltool = (params) => window.hostCallTool(params);
  bridge.onupdatemodelcontext = async (params) => {
    await window.hostRecord("ui/update-model-context", params);
    return {};
  };
  bridge.onopenlink = async (params) => {
    await window.hostRecord("ui/open-link", params);
    return {};
  };
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${Math.min(Math.max(height, 120), 4000)}px`;
  };
  const initialized = new Promise((resolve) => {
    bridge.oninitialized = resolve;
  });
  bridge.onsandboxready = () => bridge.sendSandboxResourceReady({ html, csp });
  current = { bridge, iframe, context: hostContext ?? {} };
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  await initialized;
  if (toolInput) await bridge.sendToolInput({ arguments: toolInput });
  await bridge.sendToolResult(toolResult);
  return { appInfo: bridge.getAppVersion(), appCapabilities: bridge.getAppCapabilities() };
}

/** Changes part of the host context (theme, display mode…); the bridge sends what changed. */
function setContext(patch) {
  if (patch.theme) document.documentElement.classList.toggle("dark", patch.theme === "dark");
  if (!current) return;
  current.context = { ...current.context, ...patch };
  current.bridge.setHostContext(current.context);
}

/** Shows each icon data: URI as an <img>; resolves to their natural widths. */
async function showIcons(sources) {
  const box = document.getElementById("icons");
  box.replaceChildren();
  const images = sources.map((src) => {
    const img = new Image();
    img.src = src;
    box.appendChild(img);
    return img;
  });
  await Promise.all(images.map((img) => img.decode().catch(() => {})));
  return images.map((img) => img.naturalWidth);
}

window.viewerHost = { open, close, setContext, showIcons };
