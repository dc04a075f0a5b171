"""axe-core in the console's browser tests: the engine comes from the npm registry at test time
(`npm install` into .cache/axe, which git ignores; nothing from npm is committed), is injected into
the page, and its serious and critical violations fail the test with what and where."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

from tests.conftest import missing

AXE_VERSION = "4.14.1"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "axe"
BLOCKING = ("serious", "critical")


@cache
def axe_source() -> str:
    script = CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists() or f'"version": "{AXE_VERSION}"' not in _package_json(script):
        npm = shutil.which("npm")
        if not npm:
            missing("npm is not installed: the accessibility checks get axe-core from the npm registry")
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(CACHE),
                "--no-save",
                "--no-audit",
                "--no-fund",
                f"axe-core@{AXE_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0 or not script.exists():
            missing(f"npm could not install axe-core {AXE_VERSION}: {done.stderr.strip()[-500:]}")
    return script.read_text()


def _package_json(script: Path) -> str:
    package = script.parent / "package.json"
    return package.read_text() if package.exists() else ""


def axe_violations(page, context: str | None = None) -> list[dict]:
    """The serious and critical violations on the page as it is now (or inside `context`, a CSS
    selector), each with its rule, impact, help and the first offending elements."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol: the console's Content-Security-Policy refuses
        # inline scripts, rightly, and a test must not loosen it.
        page.evaluate(axe_source() + "\n;undefined")
    return page.evaluate(
        """async ([context, blocking]) => {
            const result = await axe.run(context || document, { resultTypes: ["violations"] });
            return result.violations.filter(v => blocking.includes(v.impact)).map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary),
            }));
        }""",
        [context, list(BLOCKING)],
    )


def assert_accessible(page, state: str, context: str | None = None) -> None:
    violations = axe_violations(page, context)
    assert violations == [], f"axe found serious or critical violations ({state}): {violations}"
