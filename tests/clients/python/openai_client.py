"""Drive the OpenAI-compatible images API with the official Python `openai` package (pinned in
requirements.txt), pointed at the worker:

    python openai_client.py --base-url http://127.0.0.1:8787/v1 --key KEY --other-key KEY2 \
        --image image.png --mask mask.png --tag TAG

It lists the models, generates (URLs and base64, several models and sizes), edits an image with a
mask, makes variations, and provokes the refusals the API documents (bad size for the model,
unknown model, missing prompt, bad key, n over the limit, over the quota with --other-key, whose
quota the caller has set to 1). It prints ONE JSON object on stdout:

    {"ok": true, "openai_version": "3.51.0", "models": [...],
     "generate_url": {"urls": [...]}, "generate_b64": {"sha256": ..., "bytes": N},
     "edit": {"urls": [...]}, "variations": {"urls": [...]},
     "refusals": {"bad_size": {"class": "BadRequestError", "status": 400, "type": ..., "param": ..., "code": ..., "message": ...}, ...}}

On failure it prints {"ok": false, "error": ..., "traceback": ...} and exits 1. The node test
(../openai-python.test.mjs) asserts on this JSON.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import traceback
from importlib.metadata import version

import openai


def refusal(call) -> dict:
    """Runs `call`, which must raise an APIStatusError; returns what the error carries."""
    try:
        call()
    except openai.APIStatusError as error:
        body = error.body if isinstance(error.body, dict) else {}
        return {
            "class": type(error).__name__,
            "status": error.status_code,
            "type": body.get("type"),
            "param": body.get("param"),
            "code": body.get("code"),
            "message": body.get("message"),
            "should_retry": error.response.headers.get("x-should-retry"),
        }
    raise AssertionError("the call was not refused")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--other-key", required=True, help="a key with a daily quota of 1")
    parser.add_argument("--image", required=True)
    parser.add_argument("--mask", required=True)
    parser.add_argument("--tag", required=True)
    args = parser.parse_args()
    out: dict = {"ok": False, "openai_version": version("openai")}
    try:
        client = openai.OpenAI(base_url=args.base_url, api_key=args.key, timeout=90)
        out["models"] = [model.id for model in client.models.list()]
        out["model"] = client.models.retrieve("dall-e-3").model_dump(exclude_none=True)

        generated = client.images.generate(
            prompt=f"a red fox in the snow {args.tag} url", model="sdxl-lightning", n=2, size="512x512"
        )
        out["generate_url"] = {"urls": [image.url for image in generated.data], "created": generated.created}

        b64 = client.images.generate(
            prompt=f"a lighthouse at dusk {args.tag} b64",
            model="dall-e-3",
            size="1024x1792",
            response_format="b64_json",
            quality="hd",
        )
        data = base64.b64decode(b64.data[0].b64_json)
        out["generate_b64"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

        with open(args.image, "rb") as image, open(args.mask, "rb") as mask:
            edited = client.images.edit(
                image=("harbour.png", image, "image/png"),
                mask=("mask.png", mask, "image/png"),
                prompt=f"a boat in the harbour {args.tag} edit",
                size="512x512",
            )
        out["edit"] = {"urls": [image.url for image in edited.data]}

        with open(args.image, "rb") as image:
            varied = client.images.create_variation(image=image, n=2)
        out["variations"] = {"urls": [image.url for image in varied.data]}

        quota = openai.OpenAI(base_url=args.base_url, api_key=args.other_key, max_retries=2)
        quota.images.generate(prompt=f"the only image today {args.tag}")
        with open(args.image, "rb") as image:
            image_bytes = image.read()
        out["refusals"] = {
            "bad_size": refusal(lambda: client.images.generate(prompt="a red fox", model="phoenix", size="4096x4096")),
            "unknown_model": refusal(lambda: client.images.generate(prompt="a red fox", model="dall-e-9")),
            "missing_prompt": refusal(lambda: client.images.generate(prompt=openai.NOT_GIVEN, model="dall-e-2")),
            "bad_key": refusal(
                lambda: openai.OpenAI(base_url=args.base_url, api_key="wrong-key").images.generate(prompt="a red fox")
            ),
            "too_many_variations": refusal(lambda: client.images.create_variation(image=image_bytes, n=9)),
            "over_quota": refusal(lambda: quota.images.generate(prompt=f"one more {args.tag}")),
        }
        out["ok"] = True
    except Exception as error:  # report everything seen so far
        out["error"] = f"{type(error).__name__}: {error}"
        out["traceback"] = traceback.format_exc()
    print(json.dumps(out))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
