// Reading a text/event-stream body as the legacy SSE transport writes it, for the e2e files that
// hold a raw stream open (the SDK clients parse their own).

/**
 * Reads `body` (a fetch Response body) to its end: `onEvent({type, data, json})` for each event
 * (`json` is null when the data is not JSON) and `onComment()` for each comment line (the
 * keep-alives). Rejects with the read's error, e.g. an AbortError when the caller aborts.
 */
export async function readSseEvents(body, { onEvent, onComment = () => {} }) {
  const decoder = new TextDecoder();
  let buf = "";
  let type = "message";
  let data = [];
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      if (line === "") {
        if (data.length > 0) {
          const text = data.join("\n");
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {}
          onEvent({ type, data: text, json });
        }
        type = "message";
        data = [];
      } else if (line.startsWith(":")) {
        onComment();
      } else {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") type = value;
        else if (field === "data") data.push(value);
      }
    }
  }
}
