"""Detoxify backend: the published Detoxify models (or an operator's own checkpoint), run offline.

Loading goes through `detoxify.Detoxify` itself, so a checkpoint that works with the detoxify
package works here, and vice versa. Around it this module adds what a service needs:

* nothing is ever downloaded: the named models must already sit in torch's hub cache, and a
  checkpoint's base model (`config.arch.args.model_type`) must be a local folder, the
  `huggingface_config_path` folder, or already in the Hugging Face cache;
* a checkpoint is validated before and after loading (transformers 5 silently initialises
  missing weights at random, which would give confident nonsense scores);
* scoring sorts texts by length and pads per batch, which matters far more on CPU than on GPU.

SECURITY: detoxify checkpoints are pickles loaded with `torch.load(weights_only=False)`, which
runs arbitrary code from the file. Only load checkpoints the operator placed on disk; never a
path or file that came from a request or an untrusted source.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .base import LABELS, OPTIONAL_LABELS, ScorerError, Scores

# detoxify 0.5.4's release files: model type -> (release tag, file name). detoxify itself would
# download them; we only look for them in torch's hub cache (where that download puts them).
RELEASES: dict[str, tuple[str, str]] = {
    "original": ("v0.1-alpha", "toxic_original-c1212f89.ckpt"),
    "unbiased": ("v0.3-alpha", "toxic_debiased-c7548aa0.ckpt"),
    "multilingual": ("v0.4-alpha", "multilingual_debiased-0b549669.ckpt"),
    "original-small": ("v0.1.2", "original-albert-0e1d6498.ckpt"),
    "unbiased-small": ("v0.1.2", "unbiased-albert-c8519128.ckpt"),
}

# The languages each model type was trained for (detoxify's README): the multilingual model
# on Jigsaw's 2020 multilingual data; a checkpoint file covers what its DETOXIFY_MODEL says.
DETOXIFY_LANGUAGES: dict[str, tuple[str, ...]] = {
    "multilingual": ("en", "fr", "es", "it", "pt", "tr", "ru"),
}


def detoxify_languages(model_type: str) -> tuple[str, ...]:
    """The languages a detoxify model type covers: English, apart from the multilingual one."""
    return DETOXIFY_LANGUAGES.get(model_type, ("en",))


# detoxify passes these (and nothing else) as keyword arguments to its model factory.
_ARCH_ARGS = frozenset({"model_type", "model_name", "tokenizer_name", "num_classes"})
# The renaming detoxify applies to class names (Jigsaw 2018 names -> detoxify names).
_RENAMED = {
    "toxic": "toxicity",
    "severe_toxic": "severe_toxicity",
    "identity_hate": "identity_attack",
}
# Models whose position ids start after the padding index, so two positions are unusable.
_POSITION_OFFSET_MODELS = frozenset({"roberta", "xlm-roberta", "camembert"})

DEFAULT_BATCH_SIZE = 32
DEFAULT_MAX_LENGTH = 512


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class DetoxifyScorer:
    """Scores texts with a Detoxify model on CPU (implements base.Scorer).

    Args:
        model_type: one of RELEASES; used when `checkpoint` is None (the release file must
            already be in torch's hub cache: nothing is downloaded).
        checkpoint: path to a detoxify-format checkpoint (a `torch.save`d dict with `config` and
            `state_dict`). It is unpickled with code execution on: operator-provided files only.
        huggingface_config_path: local folder with the model's config.json and tokenizer files;
            the offline way to load a checkpoint whose base model is a hub name.
        batch_size: most texts per forward pass (memory and latency cap).
        max_length: most tokens per text; longer texts are truncated (also capped by the model).
        num_threads: torch intra-op threads; default: the cores this process may use. Note that
            this is process-wide torch state.
        quantize: apply dynamic int8 quantisation to the Linear layers (smaller, often faster on
            CPU, scores shift slightly).
    """

    def __init__(
        self,
        model_type: str = "original",
        checkpoint: str | os.PathLike[str] | None = None,
        huggingface_config_path: str | os.PathLike[str] | None = None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_length: int = DEFAULT_MAX_LENGTH,
        num_threads: int | None = None,
        quantize: bool = False,
    ) -> None:
        if batch_size < 1 or max_length < 2:
            raise ValueError("batch_size must be >= 1 and max_length >= 2")
        try:
            import torch
            from detoxify import Detoxify
        except ImportError as exc:
            raise ScorerError(
                "the detoxify backend needs the optional dependencies: "
                "pip install torch==2.13.0 'comment-moderation[detoxify]'"
            ) from exc
        self._torch = torch

        config_dir = self._config_dir(huggingface_config_path)
        path, name, release = self._checkpoint_path(model_type, checkpoint)
        self.name = name
        self.version = f"{release}-{_sha256(path)[:12]}" if release else _sha256(path)[:12]
        self.languages = detoxify_languages(model_type)

        loaded = self._read_checkpoint(path)
        arch = self._validate(loaded, path, config_dir)
        resolved = self._resolve_base_model(arch["model_type"], config_dir)
        expected_keys = frozenset(loaded["state_dict"])
        if resolved != arch["model_type"]:
            # detoxify always builds a config from model_type, even when it then uses the
            # huggingface_config_path one; a hub name there means a network call. Hand it a
            # copy whose model_type is the local folder instead.
            patched = dict(loaded, config=dict(loaded["config"]))
            patched["config"]["arch"] = dict(loaded["config"]["arch"])
            patched["config"]["arch"]["args"] = dict(arch, model_type=resolved)
            source: Any = io.BytesIO()
            torch.save(patched, source)
            source.seek(0)
            del patched
        else:
            source = str(path)
        del loaded  # free the validation copy before detoxify reads its own

        threads = num_threads or _available_cores()
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

        try:
            detox = Detoxify(
                checkpoint=source,
                device="cpu",
                huggingface_config_path=str(config_dir) if config_dir else None,
            )
        except Exception as exc:  # transformers and torch raise many kinds
            raise ScorerError(f"detoxify could not load {path}: {exc}") from exc

        model = detox.model
        self._check_weights(model, expected_keys, path)
        model.eval()
        if quantize:
            with warnings.catch_warnings():
                # torch.ao.quantization warns that it is deprecated in favour of torchao, which
                # is not installed; the eager API still works in torch 2.13.
                warnings.simplefilter("ignore")
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
            self.version += "-int8"
        self._model = model
        self._tokenizer = detox.tokenizer
        self.batch_size = batch_size
        self.max_length = self._max_length(max_length)

        # Keep the checkpoint's own output index for each label we serve.
        index = {label: i for i, label in enumerate(detox.class_names)}
        self.labels: tuple[str, ...] = tuple(label for label in (*LABELS, *OPTIONAL_LABELS) if label in index)
        self._outputs = [index[label] for label in self.labels]
        names = set(self._tokenizer.model_input_names)
        self._token_types = "token_type_ids" in names
        pad = self._tokenizer.pad_token_id
        self._pad_id = 0 if pad is None else int(pad)
        # Fast tokenizers are not safe to call from two threads at once ("Already borrowed").
        self._lock = threading.Lock()

    # --- loading -----------------------------------------------------------------------------

    @staticmethod
    def _config_dir(huggingface_config_path: str | os.PathLike[str] | None) -> Path | None:
        if huggingface_config_path is None:
            return None
        config_dir = Path(huggingface_config_path)
        if not (config_dir / "config.json").is_file():
            raise ScorerError(f"huggingface_config_path {config_dir} has no config.json")
        return config_dir

    @staticmethod
    def _checkpoint_path(
        model_type: str, checkpoint: str | os.PathLike[str] | None
    ) -> tuple[Path, str, str | None]:
        """Return (checkpoint file, scorer name, release tag or None)."""
        if checkpoint is not None:
            path = Path(checkpoint)
            if not path.is_file():
                raise ScorerError(f"detoxify checkpoint {path} does not exist or is not a file")
            return path, f"detoxify-{path.stem}", None
        if model_type not in RELEASES:
            raise ScorerError(
                f"unknown detoxify model {model_type!r}; choose one of {', '.join(RELEASES)} "
                "or give a checkpoint path"
            )
        import torch.hub

        tag, filename = RELEASES[model_type]
        path = Path(torch.hub.get_dir()) / "checkpoints" / filename
        if not path.is_file():
            raise ScorerError(
                f"detoxify model {model_type!r} is not available offline: put {filename} "
                f"(release {tag}) in {path.parent} or pass checkpoint=<path>; "
                "this service never downloads weights"
            )
        return path, f"detoxify-{model_type}", tag

    def _read_checkpoint(self, path: Path) -> Mapping[str, Any]:
        torch = self._torch
        try:
            # mmap keeps this validation read cheap: tensors are not copied into memory.
            return torch.load(path, map_location="cpu", weights_only=False, mmap=True)
        except RuntimeError:
            pass  # a legacy (non-zip) file cannot be memory-mapped; read it normally
        except Exception as exc:
            raise ScorerError(f"{path} is not a readable torch checkpoint: {exc}") from exc
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:
            raise ScorerError(f"{path} is not a readable torch checkpoint: {exc}") from exc

    @staticmethod
    def _validate(loaded: Any, path: Path, config_dir: Path | None) -> dict[str, Any]:
        """Check the shape of a detoxify checkpoint; return its config.arch.args."""
        try:
            arch = dict(loaded["config"]["arch"]["args"])
            classes = list(loaded["config"]["dataset"]["args"]["classes"])
            state_dict = loaded["state_dict"]
        except (KeyError, TypeError, IndexError, AttributeError) as exc:
            raise ScorerError(
                f"{path} is not a detoxify checkpoint: it needs config.arch.args, "
                f"config.dataset.args.classes and state_dict ({exc!r} missing)"
            ) from exc
        if set(arch) != _ARCH_ARGS:
            raise ScorerError(
                f"{path}: config.arch.args must have exactly {sorted(_ARCH_ARGS)}, has {sorted(arch)}"
            )
        if not isinstance(state_dict, Mapping) or not state_dict:
            raise ScorerError(f"{path}: state_dict is empty or not a mapping")
        num_classes = arch["num_classes"]
        if not isinstance(num_classes, int) or len(classes) > num_classes:
            raise ScorerError(f"{path}: {len(classes)} classes but num_classes={num_classes!r}")
        names = [_RENAMED.get(c, c) for c in classes]
        if len(set(names)) != len(names):
            raise ScorerError(f"{path}: duplicate class names {classes}")
        missing = [label for label in LABELS if label not in names]
        if missing:
            raise ScorerError(f"{path}: checkpoint has no {', '.join(missing)} class")
        if config_dir is not None:
            import json

            try:
                hf_config = json.loads((config_dir / "config.json").read_text())
            except (OSError, ValueError) as exc:
                raise ScorerError(f"{config_dir}/config.json is unreadable: {exc}") from exc
            # transformers reads the label count from this file, not from the checkpoint.
            labels = hf_config.get("num_labels") or len(hf_config.get("id2label") or {}) or 2
            if labels != num_classes:
                raise ScorerError(
                    f"{config_dir}/config.json has {labels} labels, checkpoint has {num_classes}"
                )
        return arch

    @staticmethod
    def _resolve_base_model(model_type: str, config_dir: Path | None) -> str:
        """Map the checkpoint's base model to a local folder, or fail without touching the net."""
        if Path(model_type).is_dir():
            return model_type
        if config_dir is not None:
            # With huggingface_config_path, detoxify builds the model from that folder's config
            # and discards the model_type one, so the folder is an exact stand-in.
            return str(config_dir)
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(model_type, "config.json")
        except Exception:  # noqa: BLE001 - a malformed repo id is just "not cached"
            cached = None
        if isinstance(cached, str):
            return str(Path(cached).parent)
        raise ScorerError(
            f"the checkpoint's base model {model_type!r} is not available offline; pass "
            "huggingface_config_path=<folder with config.json and tokenizer files>"
        )

    def _check_weights(self, model: Any, expected: frozenset[str], path: Path) -> None:
        """Fail if any weight of the model was not in the checkpoint.

        transformers 5 only logs missing weights and initialises them at random.
        """
        prefix = getattr(model, "base_model_prefix", "") or ""
        tied = set(getattr(model, "all_tied_weights_keys", None) or ())

        def candidates(key: str) -> set[str]:
            # The renamings transformers itself applies to old checkpoints: base-model prefix
            # present or not, and TF-era LayerNorm gamma/beta names.
            keys = {key}
            if prefix and key.startswith(prefix + "."):
                keys.add(key[len(prefix) + 1 :])
            elif prefix:
                keys.add(f"{prefix}.{key}")
            for k in list(keys):
                if k.endswith("LayerNorm.weight"):
                    keys.add(k[: -len("weight")] + "gamma")
                elif k.endswith("LayerNorm.bias"):
                    keys.add(k[: -len("bias")] + "beta")
            return keys

        missing = [key for key in model.state_dict() if key not in tied and not candidates(key) & expected]
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise ScorerError(
                f"{path} lacks {len(missing)} of the model's weights ({shown}); "
                "refusing to score with randomly initialised weights"
            )

    def _max_length(self, requested: int) -> int:
        config = self._model.config
        limit = int(getattr(config, "max_position_embeddings", requested) or requested)
        if getattr(config, "model_type", "") in _POSITION_OFFSET_MODELS:
            limit -= 2
        # model_max_length is a huge sentinel when the tokenizer config does not set it.
        tokenizer_limit = int(getattr(self._tokenizer, "model_max_length", limit) or limit)
        return max(2, min(requested, limit, tokenizer_limit))

    # --- scoring -----------------------------------------------------------------------------

    def score(self, texts: Sequence[str]) -> list[Scores]:
        """One {label: probability} per text, in the order given."""
        if isinstance(texts, str):
            raise TypeError("score() takes a sequence of texts, not a single string")
        texts = list(texts)
        if not texts:
            return []
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("score() takes strings only")
        torch = self._torch
        results: list[Scores | None] = [None] * len(texts)
        try:
            with self._lock, torch.inference_mode():
                ids = self._tokenizer(
                    texts,
                    truncation=True,
                    max_length=self.max_length,
                    padding=False,
                    return_attention_mask=False,
                    return_token_type_ids=False,
                )["input_ids"]
                # Sorting by length keeps padding (wasted compute on CPU) small in each batch.
                order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
                for start in range(0, len(order), self.batch_size):
                    chunk = order[start : start + self.batch_size]
                    probs = self._forward([ids[i] for i in chunk])
                    for row, i in zip(probs, chunk, strict=True):
                        results[i] = {
                            label: float(row[j]) for label, j in zip(self.labels, self._outputs, strict=True)
                        }
        except Exception as exc:
            raise ScorerError(f"{self.name} failed to score {len(texts)} texts: {exc}") from exc
        return results  # type: ignore[return-value]  # every slot was filled above

    def _forward(self, batch: list[list[int]]) -> list[list[float]]:
        torch = self._torch
        width = max(len(seq) for seq in batch)
        input_ids = torch.full((len(batch), width), self._pad_id, dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for row, seq in enumerate(batch):
            input_ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            attention[row, : len(seq)] = 1
        inputs = {"input_ids": input_ids, "attention_mask": attention}
        if self._token_types:
            inputs["token_type_ids"] = torch.zeros_like(input_ids)
        logits = self._model(**inputs)[0]
        return torch.sigmoid(logits.float()).tolist()
