// The sandbox proxy of a web host (MCP Apps spec, "Sandbox proxy"): this page is served from an
// origin other than the host's, under the Content-Security-Policy the server's resource
// declared (sent as an HTTP header by the test's sandbox server). It makes one inner iframe,
// sandboxed to scripts only (an opaque origin), loads the View's HTML into it when the host
// sends `ui/notifications/sandbox-resource-ready`, and relays every other message both ways.
(function () {
  "use strict";
  var hostOrigin = new URL(document.referrer).origin;
  var inner = document.createElement("iframe");
  inner.setAttribute("sandbox", "allow-scripts");
  inner.title = "MCP App";
  document.body.appendChild(inner);
  window.addEventListener("message", function (event) {
    if (event.source === window.parent) {
      if (event.origin !== hostOrigin) return;
      var data = event.data;
      if (data && data.method === "ui/notifications/sandbox-resource-ready") {
        // srcdoc inherits this page's CSP, the one the resource declared.
        inner.srcdoc = data.params.html;
        return;
      }
      if (inner.contentWindow) inner.contentWindow.postMessage(data, "*");
    } else if (event.source === inner.contentWindow) {
      window.parent.postMessage(event.data, hostOrigin);
    }
  });
  window.parent.postMessage({ jsonrpc: "2.0", method: "ui/notifications/sandbox-proxy-ready", params: {} }, hostOrigin);
})();
