// A tiny loopback HTTP proxy for clients that cannot send an Authorization header
// (the conformance suite), and a wire recorder for clients whose protocol
// negotiation we want to see (Inspector's --protocol-era).
//
// startProxy({ target, inject }) listens on 127.0.0.1:<random port> and forwards every
// request to `target` (an http://host:port origin) unchanged: method, path + query,
// body, and all headers as the client sent them, including Host and Origin (so the
// server sees exactly what the client sent; the DNS-rebinding scenario depends on
// it). Only the headers in `inject` are set/overridden. The response (status,
// headers, body) streams back as it arrives, so SSE works; a client disconnect
// aborts the upstream request.
//
// Each exchange is recorded in `proxy.log`:
//   { method, path, host, origin, protocolHeader, mcpMethod, rpc, metaProtocolVersion, status, contentType }
// where rpc is the JSON-RPC method of the body (if any).
import http from "node:http";

export async function startProxy({ target, inject = {} } = {}) {
  const upstream = new URL(target);
  const log = [];
  const sockets = new Set();

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("error", () => res.destroy());
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const entry = {
        method: req.method,
        path: req.url,
        host: req.headers.host,
        origin: req.headers.origin,
        protocolHeader: req.headers["mcp-protocol-version"],
        mcpMethod: req.headers["mcp-method"],
      };
      try {
        const msg = JSON.parse(body.toString("utf8") || "null");
        if (msg && typeof msg === "object" && !Array.isArray(msg) && typeof msg.method === "string") {
          entry.rpc = msg.method;
          const pv = msg.params?._meta?.["io.modelcontextprotocol/protocolVersion"];
          if (pv) entry.metaProtocolVersion = pv;
        }
      } catch {}
      log.push(entry);

      // Headers exactly as received (raw pairs keep duplicates and the client's Host),
      // minus the ones we inject and hop-by-hop ones Node manages per connection.
      const injected = new Set(Object.keys(inject).map((k) => k.toLowerCase()));
      const headers = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i];
        const lower = name.toLowerCase();
        if (injected.has(lower) || lower === "connection" || lower === "keep-alive") continue;
        headers.push(name, req.rawHeaders[i + 1]);
      }
      for (const [name, value] of Object.entries(inject)) headers.push(name, value);

      const up = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers,
          agent: false,
          setHost: false, // keep the client's own Host header
        },
        (upRes) => {
          entry.status = upRes.statusCode;
          entry.contentType = upRes.headers["content-type"];
          const out = [];
          for (let i = 0; i < upRes.rawHeaders.length; i += 2) {
            const lower = upRes.rawHeaders[i].toLowerCase();
            if (lower === "connection" || lower === "keep-alive" || lower === "transfer-encoding") continue;
            out.push(upRes.rawHeaders[i], upRes.rawHeaders[i + 1]);
          }
          res.writeHead(upRes.statusCode, upRes.statusMessage, out);
          res.flushHeaders();
          upRes.on("data", (c) => res.write(c));
          upRes.on("end", () => res.end());
          upRes.on("error", () => res.destroy());
        },
      );
      up.on("error", (err) => {
        entry.status = 502;
        entry.error = String(err?.message ?? err);
        if (!res.headersSent) {
          res.writeHead(502, { "content-type": "text/plain" });
          res.end(`proxy: upstream error: ${entry.error}`);
        } else {
          res.destroy();
        }
      });
      // The client went away (e.g. closed an SSE stream): abort the upstream request too.
      res.on("close", () => {
        if (!res.writableFinished) up.destroy();
      });
      up.end(body);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    origin,
    url: (p = "/mcp") => new URL(p, origin).toString(),
    log,
    /** Recorded exchanges since index `from` (use log.length as a mark). */
    since(from) {
      return log.slice(from);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
