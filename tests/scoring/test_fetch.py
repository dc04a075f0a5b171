"""`flask scoring fetch-detoxify` against a real HTTP server on 127.0.0.1 that serves a tiny
detoxify checkpoint, honours Range requests and can cut a response part-way."""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import detoxify.detoxify
import pytest
import torch.hub
from flask import Flask

from service.scoring import fetch
from service.scoring.commands import scoring_cli
from service.scoring.detoxify_backend import DetoxifyScorer
from service.scoring.fetch import Release
from service.scoring.loader import load_scorer

from .test_detoxify_backend import JIGSAW_CLASSES, _build

FILENAME = "toxic_original-c1212f89.ckpt"  # the name DetoxifyScorer looks for as "original"
TEXTS = ["You are a wonderful person.", "Shut up, you idiot.", ""]


@dataclass
class Served:
    """What the server serves and what it saw."""

    files: dict[str, bytes]
    cuts: list[int] = field(default_factory=list)  # body bytes to send before dropping a response
    honour_range: bool = True
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    sent: list[int] = field(default_factory=list)  # body bytes sent per response


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        served: Served = self.server.served  # type: ignore[attr-defined]
        range_header = self.headers.get("Range")
        served.requests.append((self.path, range_header))
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/redirect"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = served.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        start = 0
        if range_header and served.honour_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", range_header).group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        chunk = body[start:]
        if served.cuts:
            chunk = chunk[: served.cuts.pop(0)]
            self.close_connection = True  # the client gets fewer bytes than announced
        self.wfile.write(chunk)
        served.sent.append(len(chunk))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gives up mid-response is part of these tests, not an error


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict:
    built = _build(tmp_path_factory.mktemp("fetch"), "tiny", JIGSAW_CLASSES)
    data = built["checkpoint"].read_bytes()
    return {**built, "bytes": data, "sha256": hashlib.sha256(data).hexdigest()}


@pytest.fixture
def server(tiny):
    served = Served(files={FILENAME: tiny["bytes"]})
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.served = served  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{httpd.server_port}"  # type: ignore[attr-defined]
    yield served
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def pinned_tiny(monkeypatch, tiny, server) -> Release:
    """Pin "original" to the tiny checkpoint, published at the test server."""
    release = Release(
        "original",
        f"{server.url}/{FILENAME}",
        FILENAME,
        tiny["sha256"],
        len(tiny["bytes"]),
        "bert-base-uncased",
    )
    monkeypatch.setitem(fetch.RELEASES, "original", release)
    return release


@pytest.fixture
def torch_home(monkeypatch, tmp_path) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def _run(*args: str):
    app = Flask(__name__)
    app.cli.add_command(scoring_cli)
    return app.test_cli_runner().invoke(args=["scoring", "fetch-detoxify", *args])


def _tampered(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


def _scores(scorer) -> list[dict]:
    return scorer.score(TEXTS)


# --- the release table ------------------------------------------------------------------------


def test_release_urls_are_detoxifys_own_and_pins_match_their_file_names():
    assert {name: r.url for name, r in fetch.RELEASES.items()} == detoxify.detoxify.MODEL_URLS
    pinned = [r for r in fetch.RELEASES.values() if r.sha256]
    assert {r.name for r in pinned} == {"original", "unbiased"}
    for release in pinned:
        # torch.hub's rule: the fragment in the file name is the start of the file's SHA-256.
        fragment = re.search(r"-([0-9a-f]{8})\.ckpt$", release.filename).group(1)
        assert release.sha256.startswith(fragment) and len(release.sha256) == 64
        assert release.size > 400_000_000


def test_default_destination_is_where_torch_and_the_backend_look(monkeypatch, tmp_path):
    monkeypatch.delenv("TORCH_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fetch.hub_checkpoint_dir() == Path(torch.hub.get_dir()) / "checkpoints"
    assert fetch.hub_checkpoint_dir() == tmp_path / "xdg" / "torch" / "hub" / "checkpoints"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert fetch.hub_checkpoint_dir() == Path(torch.hub.get_dir()) / "checkpoints"


# --- download ---------------------------------------------------------------------------------


def test_download_installs_where_detoxify_model_original_loads_it(pinned_tiny, server, torch_home, tiny):
    # Through a redirect, as GitHub's release downloads are.
    result = _run("original", "--url", f"{server.url}/redirect/{FILENAME}")
    assert result.exit_code == 0, result.output
    installed = torch_home / FILENAME
    assert installed.read_bytes() == tiny["bytes"]
    assert "SCORER=detoxify DETOXIFY_MODEL=original" in result.output
    assert list(torch_home.iterdir()) == [installed]  # no .part or temp file left

    scorer = load_scorer({"SCORER": "detoxify", "DETOXIFY_MODEL": "original"})
    assert scorer.name == "detoxify-original"
    assert scorer.version == f"v0.1-alpha-{tiny['sha256'][:12]}"
    source = DetoxifyScorer(checkpoint=tiny["checkpoint"], num_threads=1)
    assert _scores(scorer) == pytest.approx(_scores(source))

    again = _run("original")
    assert again.exit_code == 0 and "already installed" in again.output
    assert len(server.requests) == 2  # the redirect and the file; nothing for the second run


def test_wrong_checksum_is_refused_and_nothing_is_installed(pinned_tiny, server, tmp_path, tiny):
    bad = _tampered(tiny["bytes"])
    server.files[FILENAME] = bad
    dest = tmp_path / "dest"
    result = _run("original", "--dest", str(dest))
    assert result.exit_code != 0
    assert f"expected {tiny['sha256']}" in result.output
    assert f"got {hashlib.sha256(bad).hexdigest()}" in result.output
    assert list(dest.iterdir()) == []  # the download was deleted, not kept for resuming


def test_cut_download_resumes_on_the_next_run(pinned_tiny, server, tmp_path, tiny):
    size = len(tiny["bytes"])
    cut = size * 2 // 5
    server.cuts = [cut]
    dest = tmp_path / "dest"
    first = _run("original", "--dest", str(dest), "--retries", "0")
    assert first.exit_code != 0
    assert "run the same command again to resume" in first.output
    assert (dest / f"{FILENAME}.part").stat().st_size == cut
    assert not (dest / FILENAME).exists()

    second = _run("original", "--dest", str(dest))
    assert second.exit_code == 0, second.output
    assert server.requests[-1] == (f"/{FILENAME}", f"bytes={cut}-")
    assert server.sent == [cut, size - cut]  # only the rest was sent again
    assert (dest / FILENAME).read_bytes() == tiny["bytes"]
    assert list(dest.iterdir()) == [dest / FILENAME]
    assert f"DETOXIFY_CHECKPOINT={dest / FILENAME}" in second.output


def test_one_run_resumes_after_each_cut_and_reports_progress(pinned_tiny, server, tmp_path, tiny):
    size, quarter = len(tiny["bytes"]), len(tiny["bytes"]) // 4
    server.cuts = [quarter, quarter]
    seen: list[tuple[int, int | None]] = []
    installed = fetch.fetch_release(
        "original",
        dest=tmp_path,
        retries=2,
        progress=lambda done, total: seen.append((done, total)),
        sleep=lambda seconds: None,
    )
    assert installed.path.read_bytes() == tiny["bytes"]
    assert [r for _, r in server.requests] == [None, f"bytes={quarter}-", f"bytes={2 * quarter}-"]
    assert seen[0] == (0, size) and seen[-1] == (size, size)
    assert (2 * quarter, size) in seen  # the third response starts where the second was cut
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_a_server_that_ignores_range_makes_it_start_over(pinned_tiny, server, tmp_path, tiny):
    server.honour_range = False
    (tmp_path / f"{FILENAME}.part").write_bytes(tiny["bytes"][:1000])
    installed = fetch.fetch_release("original", dest=tmp_path)
    assert server.requests == [(f"/{FILENAME}", "bytes=1000-")]
    assert installed.path.read_bytes() == tiny["bytes"]


def test_a_whole_part_file_left_by_a_crash_is_verified_and_installed(pinned_tiny, server, tmp_path, tiny):
    size = len(tiny["bytes"])
    (tmp_path / f"{FILENAME}.part").write_bytes(tiny["bytes"])
    installed = fetch.fetch_release("original", dest=tmp_path)
    assert server.requests == [(f"/{FILENAME}", f"bytes={size}-")]  # answered 416: nothing left
    assert installed.path.read_bytes() == tiny["bytes"] and installed.resumed_from == size


def test_a_second_fetch_of_the_same_file_waits_its_turn(pinned_tiny, server, tmp_path):
    running = fetch._Part(tmp_path / f"{FILENAME}.part")
    try:
        with pytest.raises(fetch.FetchError, match="another fetch"):
            fetch.fetch_release("original", dest=tmp_path)
    finally:
        running.close()
    assert server.requests == []


def test_a_missing_file_is_a_clear_error_without_retries(pinned_tiny, server, tmp_path):
    result = _run("original", "--url", f"{server.url}/nothing.ckpt", "--dest", str(tmp_path))
    assert result.exit_code != 0 and "HTTP 404" in result.output
    assert len(server.requests) == 1
    assert list(tmp_path.iterdir()) == []


# --- from a local file ------------------------------------------------------------------------


def test_install_from_a_local_file_then_load_it(pinned_tiny, server, tmp_path, tiny):
    dest = tmp_path / "models" / "detoxify"
    result = _run("original", "--from-file", str(tiny["checkpoint"]), "--dest", str(dest))
    assert result.exit_code == 0, result.output
    assert server.requests == []  # air-gapped: nothing is downloaded
    installed = dest / FILENAME
    assert list(dest.iterdir()) == [installed]
    scorer = load_scorer({"SCORER": "detoxify", "DETOXIFY_CHECKPOINT": str(installed)})
    assert _scores(scorer) == pytest.approx(_scores(DetoxifyScorer(checkpoint=tiny["checkpoint"])))


def test_a_local_file_with_the_wrong_checksum_is_refused(pinned_tiny, tmp_path, tiny):
    copy = tmp_path / "copy.ckpt"
    copy.write_bytes(_tampered(tiny["bytes"]))
    dest = tmp_path / "dest"
    result = _run("original", "--from-file", str(copy), "--dest", str(dest))
    assert result.exit_code != 0
    assert f"expected {tiny['sha256']}" in result.output
    assert f"got {hashlib.sha256(copy.read_bytes()).hexdigest()}" in result.output
    assert list(dest.iterdir()) == []


# --- hashes the operator gives ----------------------------------------------------------------


def test_an_unpinned_release_needs_the_operators_hash(server, tmp_path, tiny):
    url = f"{server.url}/{FILENAME}"
    refused = _run("multilingual", "--url", url, "--dest", str(tmp_path))
    assert refused.exit_code != 0 and "--sha256" in refused.output and "0b549669" in refused.output
    not_its_name = _run("multilingual", "--url", url, "--sha256", tiny["sha256"], "--dest", str(tmp_path))
    assert not_its_name.exit_code != 0 and "starts with 0b549669" in not_its_name.output
    assert server.requests == []  # refused before any download

    plausible = "0b549669" + "0" * 56
    checked = _run("multilingual", "--url", url, "--sha256", plausible, "--dest", str(tmp_path))
    assert checked.exit_code != 0 and f"expected {plausible}" in checked.output
    assert list(tmp_path.iterdir()) == []


def test_a_hash_that_disagrees_with_the_pin_is_refused(pinned_tiny, server, tmp_path):
    result = _run("original", "--sha256", "ab" * 32, "--dest", str(tmp_path))
    assert result.exit_code != 0 and "pinned" in result.output
    assert server.requests == []
