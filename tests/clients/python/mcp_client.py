"""Drive the server with the official Python MCP client (PyPI `mcp`, pinned in requirements.txt).

    python mcp_client.py --transport streamable --mode auto   --url http://127.0.0.1:8787/mcp
    python mcp_client.py --transport streamable --mode legacy --url http://127.0.0.1:8787/mcp
    python mcp_client.py --transport sse                       --url http://127.0.0.1:8787/sse

The bearer token comes from --token or $MCP_TOKEN. The script connects, lists the tools, calls
one tool (default generate_image_and_wait), with --read-resource reads the finished image back as
an MCP resource, and prints ONE JSON object on stdout:

    {"ok": true, "mcp_version": "2.3.0", "transport": ..., "mode": ...,
     "protocol_version": "2026-07-28", "server_info": {...},
     "sent_methods": ["server/discover", "tools/list", "tools/call"],   # JSON-RPC methods POSTed
     "http": [{"method": "POST", "path": "/mcp", "status": 200, "rpc": "server/discover"}, ...],
     "tools": ["generate_image", ...],
     "call": {"is_error": false, "content_types": ["text", ...], "data": {...parsed text JSON...},
              "structured": {...}, "progress": [[0.0, 1.0, "0 of 1 image(s) finished"], ...]},  # --progress
     "resources": {"listed": ["images://jobs/…", ...], "templates": ["images://jobs/{job_id}", ...],
                   "read": {"uri": ..., "mime_type": ..., "blob": "<base64>"}}}  # --read-resource

On failure it prints {"ok": false, "error": "...", "traceback": "...", ...what was seen so far}
and exits 1. The node test (../python-clients.test.mjs) asserts on this JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import traceback
from importlib.metadata import version
from typing import Any

import httpx2
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def _describe(exc: BaseException) -> str:
    """The leaf exceptions of an (anyio) exception group, one per line."""
    if isinstance(exc, BaseExceptionGroup):
        return "\n".join(_describe(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


class WireLog:
    """httpx2 event hooks: which HTTP requests the client made and which JSON-RPC methods it sent."""

    def __init__(self) -> None:
        self.http: list[dict[str, Any]] = []
        self.methods: list[str] = []

    async def on_request(self, request: httpx2.Request) -> None:
        entry: dict[str, Any] = {"method": request.method, "path": request.url.path}
        proto = request.headers.get("mcp-protocol-version")
        if proto:
            entry["protocol_header"] = proto
        if request.method == "POST":
            try:
                body = json.loads(request.content or b"null")
            except (ValueError, httpx2.RequestNotRead):
                body = None
            if isinstance(body, dict) and "method" in body:
                entry["rpc"] = body["method"]
                self.methods.append(body["method"])
                meta = (body.get("params") or {}).get("_meta") or {}
                pv = meta.get("io.modelcontextprotocol/protocolVersion")
                if pv:
                    entry["meta_protocol_version"] = pv
        self.http.append(entry)

    async def on_response(self, response: httpx2.Response) -> None:
        for entry in reversed(self.http):
            if entry["path"] == response.request.url.path and "status" not in entry:
                entry["status"] = response.status_code
                break

    def hooks(self) -> dict[str, list[Any]]:
        return {"request": [self.on_request], "response": [self.on_response]}


async def run(args: argparse.Namespace, out: dict[str, Any], wire: WireLog) -> None:
    headers = {"Authorization": f"Bearer {args.token}"}
    timeout = httpx2.Timeout(args.timeout, read=args.timeout)
    if args.transport == "sse":
        # sse_client builds its own httpx2 client through this factory; add the wire hooks.
        def factory(headers=None, timeout=None, auth=None):  # noqa: ANN001 - mcp's factory protocol
            return httpx2.AsyncClient(
                headers=headers, timeout=timeout, auth=auth, event_hooks=wire.hooks()
            )

        transport = sse_client(
            args.url,
            headers=headers,
            timeout=args.timeout,
            sse_read_timeout=args.timeout,
            httpx_client_factory=factory,
        )
        await session(Client(transport, mode=args.mode), args, out)
    else:
        http = httpx2.AsyncClient(headers=headers, timeout=timeout, event_hooks=wire.hooks())
        async with http:
            transport = streamable_http_client(args.url, http_client=http)
            await session(Client(transport, mode=args.mode), args, out)


async def session(client: Client, args: argparse.Namespace, out: dict[str, Any]) -> None:
    async with client:
        out["protocol_version"] = client.protocol_version
        out["server_info"] = _jsonable(client.server_info)
        out["server_capabilities"] = _jsonable(client.server_capabilities)
        tools = await client.list_tools()
        out["tools"] = [t.name for t in tools.tools]
        if args.tool:
            progress: list[list[Any]] = []

            async def on_progress(value: float, total: float | None, message: str | None) -> None:
                progress.append([value, total, message])

            result = await client.call_tool(
                args.tool,
                json.loads(args.arguments),
                read_timeout_seconds=args.timeout,
                # A progress callback makes the client send _meta.progressToken; the server then
                # streams notifications/progress before the result.
                progress_callback=on_progress if args.progress else None,
            )
            call: dict[str, Any] = {
                "is_error": bool(result.is_error),
                "content_types": [block.type for block in result.content],
                "structured": _jsonable(result.structured_content),
            }
            if args.progress:
                call["progress"] = progress
            texts = [block.text for block in result.content if block.type == "text"]
            if texts:
                try:
                    call["data"] = json.loads(texts[0])
                except ValueError:
                    call["text"] = texts[0]
            out["call"] = call
            if args.read_resource:
                out["resources"] = await read_back(client, call.get("data") or {})


async def read_back(client: Client, data: dict[str, Any]) -> dict[str, Any]:
    """Lists the resources and templates, then reads the called job's image as a resource."""
    listed = await client.list_resources()
    templates = await client.list_resource_templates()
    uri = f"images://jobs/{data.get('job_id')}"
    read = await client.read_resource(uri)
    contents = read.contents[0]
    return {
        "listed": [str(r.uri) for r in listed.resources],
        "next_cursor": listed.next_cursor,
        "templates": [t.uri_template for t in templates.resource_templates],
        "read": {
            "count": len(read.contents),
            "uri": str(contents.uri),
            "mime_type": contents.mime_type,
            "blob": getattr(contents, "blob", None),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="…/mcp for streamable HTTP, …/sse for HTTP+SSE")
    parser.add_argument("--transport", choices=["streamable", "sse"], default="streamable")
    parser.add_argument(
        "--mode",
        default=None,
        help="Client(mode=…): auto (default for streamable: server/discover probe), legacy (initialize), "
        "or a modern version such as 2026-07-28. Default for sse: legacy.",
    )
    parser.add_argument("--token", default=os.environ.get("MCP_TOKEN"), help="bearer token (default $MCP_TOKEN)")
    parser.add_argument("--tool", default="generate_image_and_wait", help="tool to call after tools/list ('' = none)")
    parser.add_argument("--arguments", default='{"prompt": "a red fox in the snow"}', help="tool arguments (JSON)")
    parser.add_argument("--progress", action="store_true", help="ask for progress notifications on the tool call")
    parser.add_argument(
        "--read-resource",
        action="store_true",
        help="after the call, list resources and templates and read the job's image as a resource",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds (HTTP read, tool call)")
    args = parser.parse_args()
    if not args.token:
        parser.error("no token: pass --token or set MCP_TOKEN")
    if args.mode is None:
        args.mode = "legacy" if args.transport == "sse" else "auto"

    wire = WireLog()
    out: dict[str, Any] = {
        "ok": False,
        "mcp_version": version("mcp"),
        "transport": args.transport,
        "mode": args.mode,
        "url": args.url,
    }
    code = 0
    try:
        asyncio.run(asyncio.wait_for(run(args, out, wire), timeout=args.timeout * 2))
        out["ok"] = True
    except BaseException as exc:  # noqa: BLE001 - report everything (ExceptionGroup, timeouts) as JSON
        out["error"] = _describe(exc)
        out["traceback"] = traceback.format_exc()
        code = 1
    out["sent_methods"] = wire.methods
    out["http"] = wire.http
    print(json.dumps(out, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main())
