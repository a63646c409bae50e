// The image viewer, an MCP App View (io.modelcontextprotocol/ui, protocol 2026-01-26):
// https://github.com/modelcontextprotocol/ext-apps/blob/main/specification/2026-01-26/apps.mdx
// It speaks JSON-RPC over postMessage with its host (the parent window): `ui/initialize`, then
// the host sends the tool's input and result; every action goes back through the host
// (`tools/call`, `ui/open-link`, `ui/update-model-context`). It fetches nothing itself: images
// load as <img> from the origins the resource's CSP names.
(function () {
  "use strict";

  var PROTOCOL_VERSION = "2026-01-26";
  var APP_INFO = { name: "mcp-image-generator-viewer", version: "1.0.0" };
  // get_job_status polling for running jobs: first after 1 s, then slower, at most 5 s apart.
  var POLL_FIRST_MS = 1000;
  var POLL_MAX_MS = 5000;
  var POLL_GIVE_UP_MS = 30 * 60 * 1000;
  var VARIATIONS_COUNT = 4;

  var config = readConfig();
  var root = document.documentElement;
  var sets = document.getElementById("sets");
  var statusLine = document.getElementById("status");
  var lightbox = document.getElementById("lightbox");
  var cardTemplate = document.getElementById("card");
  var hostCapabilities = {};
  var nextId = 1;
  var pending = new Map();
  var selectedCard = null;
  var toolInput = null;

  function readConfig() {
    try {
      return JSON.parse(document.getElementById("viewer-config").textContent);
    } catch (e) {
      return {};
    }
  }

  // --- JSON-RPC over postMessage ----------------------------------------------------------
  function post(message) {
    window.parent.postMessage(message, "*");
  }

  function request(method, params) {
    var id = nextId++;
    post({ jsonrpc: "2.0", id: id, method: method, params: params || {} });
    return new Promise(function (resolve, reject) {
      pending.set(id, { resolve: resolve, reject: reject });
    });
  }

  function notify(method, params) {
    post({ jsonrpc: "2.0", method: method, params: params || {} });
  }

  function respond(id, result) {
    post({ jsonrpc: "2.0", id: id, result: result });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) return;
    var message = event.data;
    if (!message || message.jsonrpc !== "2.0") return;
    if (message.id !== undefined && message.method === undefined) {
      var waiting = pending.get(message.id);
      if (!waiting) return;
      pending.delete(message.id);
      if (message.error) waiting.reject(new Error(message.error.message || "host error"));
      else waiting.resolve(message.result);
      return;
    }
    handle(message);
  });

  function handle(message) {
    var params = message.params || {};
    switch (message.method) {
      case "ui/notifications/tool-input":
        toolInput = params.arguments || null;
        if (!sets.childElementCount && toolInput && typeof toolInput.prompt === "string") {
          setStatus("Working on: " + toolInput.prompt);
        }
        break;
      case "ui/notifications/tool-result":
        showResult(params, null);
        break;
      case "ui/notifications/tool-cancelled":
        setStatus("The tool call was cancelled" + (params.reason ? ": " + params.reason : "."));
        break;
      case "ui/notifications/host-context-changed":
        applyContext(params);
        break;
      case "ui/resource-teardown":
        stopPolling();
        respond(message.id, {});
        break;
      case "ping":
        respond(message.id, {});
        break;
      default:
        if (message.id !== undefined) {
          post({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } });
        }
    }
  }

  // --- Host context: theme, style variables, display mode -------------------------------
  var systemDark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  var hostTheme = null;

  function applyTheme() {
    root.dataset.theme = hostTheme || (systemDark && systemDark.matches ? "dark" : "light");
  }
  if (systemDark && systemDark.addEventListener) systemDark.addEventListener("change", applyTheme);

  function applyContext(context) {
    if (!context) return;
    if (context.theme === "light" || context.theme === "dark") hostTheme = context.theme;
    applyTheme();
    var variables = context.styles && context.styles.variables;
    if (variables) {
      Object.keys(variables).forEach(function (name) {
        var value = variables[name];
        if (name.indexOf("--") === 0 && typeof value === "string") root.style.setProperty(name, value);
      });
    }
    if (context.displayMode) root.dataset.displayMode = context.displayMode;
    var dimensions = context.containerDimensions;
    var bound = dimensions && (dimensions.height || dimensions.maxHeight);
    if (typeof bound === "number" && bound > 0) {
      root.style.setProperty("--max-image-height", Math.max(160, Math.round(bound * 0.7)) + "px");
    }
  }
  applyTheme();

  // --- Size: tell the host how tall the content is ----------------------------------------
  var lastHeight = 0;
  function reportSize() {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (height === lastHeight) return;
    lastHeight = height;
    notify("ui/notifications/size-changed", { height: height });
  }
  if (window.ResizeObserver) new ResizeObserver(reportSize).observe(document.body);

  // --- What a result holds ---------------------------------------------------------------
  function setStatus(text) {
    statusLine.textContent = text || "";
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function imageItem(source, shared) {
    return {
      jobId: source.job_id || source.id,
      state: "completed",
      imageUrl: source.image_url,
      thumbnailUrl: source.thumbnail_url,
      prompt: source.prompt || (shared && shared.prompt),
      model: source.model || (shared && shared.model),
      seed: source.seed,
      width: source.width,
      height: source.height,
    };
  }

  function runningItem(jobId, status, shared) {
    return {
      jobId: jobId,
      state: "running",
      status: status || "pending",
      prompt: shared && shared.prompt,
      model: shared && shared.model,
    };
  }

  // Every job a tool result names, in order: finished images, failures and running jobs. The
  // shapes are this server's result objects (see the tools' outputSchema).
  function itemsOf(result) {
    var items = [];
    var seen = new Set();
    function add(item) {
      if (!item.jobId || seen.has(item.jobId)) return;
      seen.add(item.jobId);
      items.push(item);
    }
    if (!isObject(result)) return items;
    var shared = { prompt: result.prompt, model: result.model };
    ["results", "completed", "generations"].forEach(function (key) {
      (Array.isArray(result[key]) ? result[key] : []).forEach(function (entry) {
        if (isObject(entry) && entry.image_url) add(imageItem(entry, shared));
      });
    });
    (Array.isArray(result.jobs) ? result.jobs : []).forEach(function (job) {
      if (!isObject(job)) return;
      if (job.status === "completed" && job.image_url) add(imageItem(job, shared));
      else if (job.status === "failed") add({ jobId: job.id, state: "failed", error: job.error, prompt: job.prompt, model: job.model });
      else add(runningItem(job.id, job.status, job));
    });
    (Array.isArray(result.failed) ? result.failed : []).forEach(function (entry) {
      if (isObject(entry)) add({ jobId: entry.job_id, state: "failed", error: entry.error, prompt: shared.prompt, model: shared.model });
    });
    if (typeof result.job_id === "string") {
      if (result.image_url) add(imageItem(result, shared));
      else if (result.status === "failed") add({ jobId: result.job_id, state: "failed", error: result.error, prompt: shared.prompt, model: shared.model });
      else if (result.status === "pending" || result.status === "processing") add(runningItem(result.job_id, result.status, shared));
    }
    ["job_ids", "pending_job_ids"].forEach(function (key) {
      (Array.isArray(result[key]) ? result[key] : []).forEach(function (id) {
        if (typeof id === "string") add(runningItem(id, "pending", shared));
      });
    });
    return items;
  }

  // --- Rendering --------------------------------------------------------------------------
  function safeUrl(text) {
    if (typeof text !== "string") return null;
    try {
      var url = new URL(text);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function facts(item) {
    var parts = [];
    if (item.model) parts.push(item.model);
    if (item.seed !== undefined && item.seed !== null) parts.push("seed " + item.seed);
    if (item.width && item.height) parts.push(item.width + " × " + item.height);
    return parts.join(" · ");
  }

  function fillCard(card, item, single) {
    card.item = item;
    card.dataset.jobId = item.jobId;
    card.classList.toggle("running", item.state === "running");
    card.classList.toggle("failed", item.state === "failed");
    card.querySelector(".prompt").textContent = item.prompt || "";
    card.querySelector(".facts").textContent = facts(item);
    card.querySelector(".error").textContent = item.state === "failed" ? item.error || "The job failed." : "";
    card.querySelector(".state").textContent = item.state === "running" ? (item.status === "processing" ? "Generating…" : "Queued…") : "";
    if (item.width && item.height) card.style.setProperty("--ratio", item.width + " / " + item.height);
    var img = card.querySelector(".picture img");
    if (item.state === "completed") {
      var src = safeUrl(single ? item.imageUrl : item.thumbnailUrl || item.imageUrl);
      img.alt = item.prompt || "Generated image";
      if (src && img.getAttribute("src") !== src) img.src = src;
    }
  }

  function makeCard(item, single) {
    var card = cardTemplate.content.firstElementChild.cloneNode(true);
    fillCard(card, item, single);
    card.querySelector(".picture img").addEventListener("error", function () {
      // Gone, or from an origin the host's sandbox does not allow.
      if (card.item.state === "completed") card.querySelector(".error").textContent = "The image could not be loaded here.";
    });
    card.querySelector(".picture").addEventListener("click", function () {
      openLightbox(card.item);
    });
    card.querySelector(".actions").addEventListener("click", function (event) {
      var button = event.target.closest("button[data-action]");
      if (button) act(card, button.dataset.action, button);
    });
    // No <form> submission: hosts may sandbox the View without `allow-forms`.
    var edit = card.querySelector(".edit");
    var input = edit.querySelector("input");
    function applyEdit() {
      var prompt = input.value.trim();
      if (prompt.length < 3) {
        input.focus();
        return;
      }
      edit.hidden = true;
      input.value = "";
      runTool("edit_image", { prompt: prompt, images: [card.item.jobId], preview: false }, "Edit of " + card.item.jobId + ": " + prompt);
    }
    edit.querySelector(".apply").addEventListener("click", applyEdit);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") applyEdit();
    });
    if (item.state === "running") poll(card, single);
    return card;
  }

  // Shows a tool result as one set of cards (newest set first); `title` names what made it.
  function showResult(result, title) {
    var structured = result && result.structuredContent;
    if (!isObject(structured)) structured = parseText(result);
    var items = itemsOf(structured);
    setStatus("");
    var set = document.createElement("section");
    set.className = "set";
    if (title) {
      var heading = document.createElement("h2");
      heading.textContent = title;
      set.appendChild(heading);
    }
    if (result && result.isError) {
      var note = document.createElement("p");
      note.className = "note";
      note.textContent = (isObject(structured) && structured.error) || "The tool reported an error.";
      set.appendChild(note);
    } else if (!items.length) {
      var empty = document.createElement("p");
      empty.className = "status";
      empty.textContent = (isObject(structured) && structured.message) || "No images in this result.";
      set.appendChild(empty);
    }
    var grid = document.createElement("div");
    var single = items.length === 1;
    grid.className = single ? "grid single" : "grid";
    items.forEach(function (item) {
      grid.appendChild(makeCard(item, single));
    });
    set.appendChild(grid);
    sets.insertBefore(set, sets.firstChild);
    return set;
  }

  // Older hosts may drop structuredContent; the first text block is the same object as JSON.
  function parseText(result) {
    var text = result && Array.isArray(result.content) && result.content[0] && result.content[0].text;
    try {
      return typeof text === "string" ? JSON.parse(text) : null;
    } catch (e) {
      return null;
    }
  }

  // --- Running jobs: get_job_status through the host until they finish --------------------
  var timers = new Set();
  var stopped = false;

  function stopPolling() {
    stopped = true;
    timers.forEach(clearTimeout);
    timers.clear();
  }

  function poll(card, single) {
    var started = Date.now();
    var delay = POLL_FIRST_MS;
    function tick() {
      if (stopped || !card.isConnected) return;
      callTool("get_job_status", { job_id: card.item.jobId, preview: false })
        .then(function (result) {
          var job = result && result.structuredContent;
          if (!isObject(job)) job = parseText(result) || {};
          if (job.status === "completed" && job.image_url) {
            fillCard(card, imageItem(job, card.item), single);
            return;
          }
          if (job.status === "failed" || result.isError) {
            fillCard(card, { jobId: card.item.jobId, state: "failed", error: job.error, prompt: job.prompt || card.item.prompt, model: job.model || card.item.model }, single);
            return;
          }
          card.item.status = job.status;
          fillCard(card, Object.assign({}, card.item, { prompt: job.prompt || card.item.prompt, model: job.model || card.item.model }), single);
          schedule();
        })
        .catch(schedule);
    }
    function schedule() {
      if (Date.now() - started > POLL_GIVE_UP_MS) {
        card.querySelector(".state").textContent = "Still running: ask again later.";
        return;
      }
      var timer = setTimeout(function () {
        timers.delete(timer);
        tick();
      }, delay);
      timers.add(timer);
      delay = Math.min(delay * 1.5, POLL_MAX_MS);
    }
    schedule();
  }

  // --- Actions ----------------------------------------------------------------------------
  function callTool(name, args) {
    return request("tools/call", { name: name, arguments: args });
  }

  function runTool(name, args, title) {
    setStatus(title + "…");
    return callTool(name, args).then(
      function (result) {
        showResult(result, title);
      },
      function (error) {
        setStatus(title + " failed: " + error.message);
      }
    );
  }

  function act(card, action, button) {
    var item = card.item;
    if (action === "variations") {
      button.disabled = true;
      runTool("generate_variations", { job_id: item.jobId, count: VARIATIONS_COUNT, preview: false }, "Variations of " + item.jobId).then(function () {
        button.disabled = false;
      });
    } else if (action === "edit") {
      var edit = card.querySelector(".edit");
      edit.hidden = !edit.hidden;
      if (!edit.hidden) edit.querySelector("input").focus();
    } else if (action === "open") {
      var base = safeUrl(config.galleryImageUrl);
      if (base) request("ui/open-link", { url: base + encodeURIComponent(item.jobId) }).catch(function (error) {
        setStatus("Could not open the gallery: " + error.message);
      });
    } else if (action === "use") {
      useImage(card, button);
    }
  }

  function useImage(card, button) {
    var item = card.item;
    var text =
      "The person picked image job_id " + item.jobId +
      (item.prompt ? " (prompt: " + JSON.stringify(item.prompt) + ")" : "") +
      (item.imageUrl ? ", " + item.imageUrl : "") +
      ". When they say \"this image\", they mean this job_id.";
    request("ui/update-model-context", {
      content: [{ type: "text", text: text }],
      structuredContent: { job_id: item.jobId, image_url: item.imageUrl || null, prompt: item.prompt || null, model: item.model || null },
    }).then(
      function () {
        if (selectedCard && selectedCard !== card) {
          selectedCard.classList.remove("selected");
          var previous = selectedCard.querySelector('button[data-action="use"]');
          previous.setAttribute("aria-pressed", "false");
          previous.textContent = "Use this image";
        }
        selectedCard = card;
        card.classList.add("selected");
        button.setAttribute("aria-pressed", "true");
        button.textContent = "Selected";
      },
      function (error) {
        setStatus("The host did not take the selection: " + error.message);
      }
    );
  }

  // --- Full size --------------------------------------------------------------------------
  function openLightbox(item) {
    var src = safeUrl(item.imageUrl);
    if (!src) return;
    var img = lightbox.querySelector("img");
    img.src = src;
    img.alt = item.prompt || "Generated image";
    lightbox.hidden = false;
    lightbox.querySelector(".close").focus();
  }

  function closeLightbox() {
    lightbox.hidden = true;
  }
  lightbox.addEventListener("click", closeLightbox);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !lightbox.hidden) closeLightbox();
  });

  // --- Start: initialize with the host ----------------------------------------------------
  request("ui/initialize", {
    appInfo: APP_INFO,
    appCapabilities: { availableDisplayModes: ["inline", "fullscreen"] },
    protocolVersion: PROTOCOL_VERSION,
  }).then(
    function (result) {
      hostCapabilities = (result && result.hostCapabilities) || {};
      // Actions the host cannot carry are hidden rather than failing when pressed.
      root.classList.toggle("no-tools", !hostCapabilities.serverTools);
      root.classList.toggle("no-open", !hostCapabilities.openLinks);
      root.classList.toggle("no-context", !hostCapabilities.updateModelContext);
      applyContext(result && result.hostContext);
      root.dataset.ready = "true";
      notify("ui/notifications/initialized", {});
      reportSize();
    },
    function (error) {
      setStatus("The host refused the viewer: " + error.message);
    }
  );
})();
