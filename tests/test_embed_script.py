"""embed.js as article pages get it: the file without its whole-line comments and indentation."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from service.api.web import STATIC, strip_comments


def test_whole_line_comments_and_indentation_go_and_code_stays():
    source = "\n".join(
        [
            "/* A header",
            "   on two lines. */",
            "(function () {",
            "  // why this is so",
            '  var url = "http://example.org/a"; // kept: code comes first',
            "  /* inline */ var kept = 1;",
            "  /* a comment",
            "     then code */ var after = 2;",
            "  var re = /\\/\\//g;",
            "",
            "})();",
        ]
    )
    assert strip_comments(source) == "\n".join(
        [
            "(function () {",
            'var url = "http://example.org/a"; // kept: code comes first',
            "/* inline */ var kept = 1;",
            "var after = 2;",
            "var re = /\\/\\//g;",
            "})();",
            "",
        ]
    )


def test_the_stripped_embed_is_still_valid_javascript(tmp_path):
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    script = tmp_path / "embed.js"
    script.write_text(strip_comments((STATIC / "embed.js").read_text()))
    checked = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
