"""Fetch detoxify's released checkpoints for servers that may download them, or copy one in
from a local file on air-gapped servers; either way verify a pinned SHA-256 and install atomically.

The file lands where `DetoxifyScorer` looks for named models (torch's hub cache, the same place
detoxify's own download would put it), so `SCORER=detoxify DETOXIFY_MODEL=<name>` then loads it
offline. A cut download leaves `<file>.part` beside the target; the next run asks the server for
the rest (HTTP Range) instead of starting over.

SECURITY: checkpoints are pickles that run code when loaded. The pinned hash is what makes a
downloaded file the one detoxify's authors published; a release without a pinned hash is refused
unless the operator supplies one.
"""

from __future__ import annotations

import fcntl
import hashlib
import http.client
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .detoxify_backend import RELEASES as RELEASE_FILES

DOWNLOAD_URL = "https://github.com/unitaryai/detoxify/releases/download/"
CHUNK = 1 << 20
DEFAULT_RETRIES = 3
DEFAULT_TIMEOUT = 60.0

# done, total (None when the server does not say)
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Release:
    """One published checkpoint. sha256/size None: not pinned here yet."""

    name: str
    url: str
    filename: str
    sha256: str | None
    size: int | None
    base_model: str  # the Hugging Face model whose config and tokenizer it needs


def _release(name: str, sha256: str | None, size: int | None, base_model: str) -> Release:
    tag, filename = RELEASE_FILES[name]
    return Release(name, f"{DOWNLOAD_URL}{tag}/{filename}", filename, sha256, size, base_model)


# The hashes come from people who downloaded the files and published what they got, and each one
# starts with the 8-digit fragment in the file name (torch.hub's naming rule: the first digits of
# the file's SHA-256), which the detoxify authors chose when they uploaded it:
# - original: Bostesa/automated-evaluator-audit, data/civil_comments provenance (438,021,897 bytes);
# - unbiased: Jamster187/cmpt491-music-censorship, reports/detoxify_artifacts.json (498,707,273).
# No public source states the other three; whoever first downloads one should pin it here.
RELEASES: dict[str, Release] = {
    "original": _release(
        "original",
        "c1212f89ac23307ab33932ce29dc446a6e030fb3f384a500890bbe662b7b544a",
        438_021_897,
        "bert-base-uncased",
    ),
    "unbiased": _release(
        "unbiased",
        "c7548aa09468726af4cfdd0959912467784de4a076786913ada9f0f21b68f60d",
        498_707_273,
        "roberta-base",
    ),
    "multilingual": _release("multilingual", None, None, "xlm-roberta-base"),
    "original-small": _release("original-small", None, None, "albert-base-v2"),
    "unbiased-small": _release("unbiased-small", None, None, "albert-base-v2"),
}


class FetchError(Exception):
    """The checkpoint could not be fetched or installed; nothing was installed."""


class ChecksumMismatch(FetchError):
    """The bytes are not the pinned release; they were deleted."""


class _Interrupted(Exception):
    """A transient failure: what was received stays in the .part file for the next try."""


@dataclass(frozen=True)
class Installed:
    release: Release
    path: Path
    sha256: str
    size: int
    resumed_from: int = 0  # bytes already in the .part file when this run started
    already_installed: bool = False


def hub_checkpoint_dir() -> Path:
    """Where DetoxifyScorer (and detoxify's own download) look for named models.

    torch.hub.get_dir()'s rule, without importing torch: $TORCH_HOME/hub/checkpoints, where
    TORCH_HOME defaults to $XDG_CACHE_HOME/torch and that to ~/.cache.
    """
    cache = os.getenv("XDG_CACHE_HOME", "~/.cache")
    torch_home = os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(cache, "torch")))
    return Path(torch_home) / "hub" / "checkpoints"


def expected_sha256(release: Release, sha256: str | None = None) -> str:
    """The hash the installed file must have: the pin, or the operator's for an unpinned release."""
    given = sha256.strip().lower() if sha256 else None
    if given is not None and not re.fullmatch(r"[0-9a-f]{64}", given):
        raise FetchError(f"--sha256 must be 64 hexadecimal digits, got {sha256!r}")
    if release.sha256:
        if given and given != release.sha256:
            raise FetchError(
                f"{release.name} is pinned to SHA-256 {release.sha256}; --sha256 {given} disagrees. "
                "To run a different file, install it yourself and set DETOXIFY_CHECKPOINT"
            )
        return release.sha256
    fragment = _name_fragment(release.filename)
    if given is None:
        raise FetchError(
            f"no SHA-256 is pinned for {release.name} ({release.filename}), and an unverified "
            "checkpoint can run any code when loaded: pass --sha256 with the hash from a source "
            f"you trust (it starts with {fragment}), then pin it in service/scoring/fetch.py"
        )
    if fragment and not given.startswith(fragment):
        raise FetchError(
            f"--sha256 {given} cannot be {release.filename}'s: the file name says its SHA-256 "
            f"starts with {fragment}"
        )
    return given


def _name_fragment(filename: str) -> str:
    match = re.search(r"-([0-9a-f]{8,})\.", filename)
    return match.group(1) if match else ""


def fetch_release(
    name: str,
    *,
    url: str | None = None,
    sha256: str | None = None,
    from_file: str | os.PathLike[str] | None = None,
    dest: str | os.PathLike[str] | None = None,
    retries: int = DEFAULT_RETRIES,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Installed:
    """Download (or copy from `from_file`) release `name`, verify it, install it in `dest`.

    `dest` defaults to hub_checkpoint_dir(). `url` replaces the published URL (a mirror); the
    checksum is the same. A transient failure is retried `retries` times, resuming each time.
    Raises FetchError (ChecksumMismatch for wrong bytes); then nothing is installed.
    """
    if name not in RELEASES:
        raise FetchError(f"unknown detoxify release {name!r}; choose one of {', '.join(RELEASES)}")
    if url and from_file:
        raise FetchError("give either a URL or a local file, not both")
    if url and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"--url must be an http or https URL, got {url!r}")
    release = RELEASES[name]
    expected = expected_sha256(release, sha256)
    folder = Path(dest) if dest is not None else hub_checkpoint_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / release.filename
    report = progress or (lambda done, total: None)

    if target.is_file() and _file_sha256(target) == expected:
        return Installed(release, target, expected, target.stat().st_size, already_installed=True)
    if from_file is not None:
        return _install_from_file(release, Path(from_file), target, expected, report)
    return _download(release, url or release.url, target, expected, retries, timeout, report, sleep)


# --- from a local file --------------------------------------------------------------------------


def _install_from_file(
    release: Release, source: Path, target: Path, expected: str, report: Progress
) -> Installed:
    if not source.is_file():
        raise FetchError(f"{source} does not exist or is not a file")
    size = source.stat().st_size
    if release.size is not None and size != release.size:
        raise FetchError(
            f"{source} has {size} bytes; {release.filename} has {release.size}: not this release"
        )
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    done = 0
    # O_EXCL: never write through a link someone planted; 0o666 lets the umask decide, as for a copy.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            report(0, size)
            for block in iter(lambda: src.read(CHUNK), b""):
                out.write(block)
                digest.update(block)
                done += len(block)
                report(done, size)
            _check(release, digest.hexdigest(), done, expected, f"{source}")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    _sync_dir(target.parent)
    return Installed(release, target, expected, done)


# --- download -----------------------------------------------------------------------------------


class _Part:
    """The .part file of a download, locked against a second fetch, and the SHA-256 of its bytes."""

    def __init__(self, path: Path):
        self.path = path
        self.file = path.open("ab")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.close()
            raise FetchError(f"another fetch is writing {path}; wait for it to finish") from None
        self.digest = hashlib.sha256()
        self.size = 0
        with path.open("rb") as existing:
            for block in iter(lambda: existing.read(CHUNK), b""):
                self.digest.update(block)
                self.size += len(block)

    def write(self, block: bytes) -> None:
        self.file.write(block)
        self.digest.update(block)
        self.size += len(block)

    def restart(self) -> None:
        self.file.truncate(0)
        self.digest = hashlib.sha256()
        self.size = 0

    def close(self) -> None:
        self.file.close()


def _download(
    release: Release,
    url: str,
    target: Path,
    expected: str,
    retries: int,
    timeout: float,
    report: Progress,
    sleep: Callable[[float], None],
) -> Installed:
    part = _Part(target.with_name(target.name + ".part"))
    resumed_from = part.size
    try:
        failures = 0
        while True:
            try:
                total = _receive(release, url, part, timeout, report)
                break
            except _Interrupted as exc:
                failures += 1
                if failures > retries and part.size:
                    raise FetchError(
                        f"download of {url} interrupted ({exc}); {part.size} bytes are kept in "
                        f"{part.path}: run the same command again to resume"
                    ) from None
                if failures > retries:
                    raise FetchError(f"could not download {url}: {exc}") from None
                sleep(min(2.0**failures, 30.0))
        if total is not None and part.size != total:
            raise FetchError(f"{url}: received {part.size} bytes, the server announced {total}")
        try:
            _check(release, part.digest.hexdigest(), part.size, expected, url)
        except ChecksumMismatch:
            part.close()
            part.path.unlink(missing_ok=True)
            raise
        part.file.flush()
        os.fsync(part.file.fileno())
        # Renamed while still locked, so no other fetch can append in between.
        os.replace(part.path, target)
    finally:
        part.close()
        if part.size == 0:
            part.path.unlink(missing_ok=True)  # nothing worth resuming
    _sync_dir(target.parent)
    return Installed(release, target, expected, part.size, resumed_from=resumed_from)


def _receive(release: Release, url: str, part: _Part, timeout: float, report: Progress) -> int | None:
    """One request: append what the server sends to `part`; return the file's total size."""
    headers = {"User-Agent": "comment-moderation fetch-detoxify"}
    if part.size:
        headers["Range"] = f"bytes={part.size}-"
    try:
        # Only http(s) URLs get here (fetch_release checks --url); urllib refuses redirects to file:.
        request = urllib.request.Request(url, headers=headers)  # noqa: S310
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and part.size:
            # Nothing left to send: either the .part is already whole, or it is longer than the file.
            total = _content_range_total(exc.headers.get("Content-Range", ""))
            if total == part.size:
                return total
            part.restart()
            return _receive(release, url, part, timeout, report)
        if exc.code >= 500:
            raise _Interrupted(f"HTTP {exc.code} {exc.reason}") from None
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _Interrupted(str(getattr(exc, "reason", exc))) from None

    with response:
        if response.status == 206:
            start, total = _content_range(response.headers.get("Content-Range", ""))
            if start != part.size:
                part.restart()
                raise _Interrupted(f"the server resumed at byte {start}, not {part.size}")
        elif response.status == 200:
            if part.size:
                part.restart()  # the server ignores Range: start over
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        else:
            raise FetchError(f"{url}: unexpected HTTP {response.status}")
        if release.size is not None and total is not None and total != release.size:
            part.restart()
            raise FetchError(
                f"{url} serves {total} bytes; {release.filename} has {release.size}: not this release"
            )
        report(part.size, total)
        try:
            for block in iter(lambda: response.read(CHUNK), b""):
                part.write(block)
                if release.size is not None and part.size > release.size:
                    part.restart()
                    raise FetchError(f"{url} sends more than {release.filename}'s {release.size} bytes")
                report(part.size, total)
        except (OSError, http.client.HTTPException) as exc:
            raise _Interrupted(str(exc) or type(exc).__name__) from None
    if total is not None and part.size < total:
        raise _Interrupted(f"connection closed at byte {part.size} of {total}")
    return total


def _content_range(value: str) -> tuple[int, int | None]:
    match = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", value.strip())
    if not match:
        raise _Interrupted(f"unreadable Content-Range {value!r}")
    total = match.group(2)
    return int(match.group(1)), None if total == "*" else int(total)


def _content_range_total(value: str) -> int | None:
    match = re.fullmatch(r"bytes \*/(\d+)", value.strip())
    return int(match.group(1)) if match else None


# --- shared -------------------------------------------------------------------------------------


def _check(release: Release, actual: str, size: int, expected: str, source: str) -> None:
    if release.size is not None and size != release.size:
        raise ChecksumMismatch(
            f"{release.filename} from {source} has {size} bytes, expected {release.size}; "
            "nothing was installed"
        )
    if actual != expected:
        raise ChecksumMismatch(
            f"SHA-256 mismatch for {release.filename} from {source}: expected {expected}, "
            f"got {actual}; the file was deleted and nothing was installed"
        )


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _sync_dir(folder: Path) -> None:
    """Make the rename itself durable (a crash right after must not lose the new name)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
