"""ruff keeps the code to one style; run here so that CI enforces it."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers.servers import REPO


def ruff() -> str:
    beside = Path(sys.executable).parent / "ruff"
    found = str(beside) if beside.exists() else shutil.which("ruff")
    assert found, "ruff is in the test extras: pip install -e '.[test]'"
    return found


def test_ruff_check_is_clean():
    result = subprocess.run([ruff(), "check", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run(
        [ruff(), "format", "--check", "."], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


# The layout's rules: each layer imports only the layers below it.
LAYER_RULES = {
    # pure RFC 9110/9111: the standard library only (and its own modules)
    "origin/http": lambda module: (
        module.split(".")[0] in sys.stdlib_module_names or _within(module, "origin.http")
    ),
    # the backends know nothing of the app above them
    "storage": lambda module: not _within(module, "origin"),
    # Meta's rules are asked questions; they never ask the app
    "origin/whatsapp": lambda module: (
        not _within(
            module, "origin.serve", "origin.upload", "origin.ops", "origin.cli", "origin.app"
        )
    ),
    # the read side never reaches into the write side, operations or the command
    "origin/serve": lambda module: (
        not _within(module, "origin.upload", "origin.ops", "origin.cli", "origin.app")
    ),
    # the write side may use the read side (links, representations), not what is above
    "origin/upload": lambda module: not _within(module, "origin.ops", "origin.cli", "origin.app"),
    # conversions run the recipes: never the read or write side above them
    "origin/convert": lambda module: (
        not _within(
            module, "origin.serve", "origin.upload", "origin.ops", "origin.cli", "origin.app"
        )
    ),
    # the WhatsApp bridge sits beside the write side (links, its refusals), below
    # the app: never operations, the command or the app; its pure core, no I/O
    "origin/cloudapi": lambda module: not _within(module, "origin.ops", "origin.cli", "origin.app"),
    # the console shows the layers below it: never operations, the command or the app
    "origin/console": lambda module: not _within(module, "origin.ops", "origin.cli", "origin.app"),
    # operations observe the app from outside: never the write side or the command
    "origin/ops": lambda module: not _within(module, "origin.upload", "origin.cli", "origin.app"),
    # the config is read before anything runs: HTTP syntax and the policies only
    "origin/config": lambda module: (
        module.split(".")[0] in sys.stdlib_module_names
        or _within(module, "origin.config", "origin.http", "origin.policy")
    ),
}
MAX_MODULE_LINES = 360  # "about 350": room for a docstring that says why
MAX_CLASS_LINES = 150


def _within(module: str, *packages: str) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def imported_modules(source: str) -> set[str]:
    """Every module a source imports, at the top or inside a function."""

    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            if node.module in ("origin", "storage"):  # from origin import x: x is a module
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found - {"__future__"}


def layer_violations(folder: str) -> list[str]:
    allowed = LAYER_RULES[folder]
    return [
        f"{path.relative_to(REPO)} imports {module}"
        for path in sorted((REPO / folder).rglob("*.py"))
        for module in sorted(imported_modules(path.read_text()))
        if not allowed(module)
    ]


def test_each_layer_imports_only_what_its_rule_allows():
    assert {folder: layer_violations(folder) for folder in LAYER_RULES} == {
        folder: [] for folder in LAYER_RULES
    }


def test_the_layer_check_sees_imports_anywhere_in_a_module():
    source = (
        "import os\ndef f():\n    from origin.serve.files import Files\nfrom origin import app\n"
    )
    assert imported_modules(source) == {"os", "origin.serve.files", "origin", "origin.app"}
    assert not LAYER_RULES["origin/whatsapp"]("origin.serve.files")
    assert not LAYER_RULES["origin/http"]("starlette.types")
    assert not LAYER_RULES["storage"]("origin.whatsapp.media_types")
    assert LAYER_RULES["origin/http"]("urllib.parse")


def test_no_module_or_class_is_too_long_to_read():

    too_long = []
    for path in sorted([*(REPO / "origin").rglob("*.py"), *(REPO / "storage").rglob("*.py")]):
        source = path.read_text()
        name = str(path.relative_to(REPO))
        if (lines := source.count("\n")) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_CLASS_LINES:
                    too_long.append(f"{name}: class {node.name}, {length} lines")
    assert too_long == []


PURE_CLOUDAPI = ("calls", "media_ids", "messages", "webhooks")


def test_the_cloudapi_core_does_no_io():
    """Requests, ID records, message bodies and webhook reading are plain values:
    no HTTP client, no storage, no asyncio in them (client.py and bridge.py do it)."""
    for name in PURE_CLOUDAPI:
        tree = ast.parse((REPO / "origin" / "cloudapi" / f"{name}.py").read_text())
        imported = {
            alias.name if isinstance(node, ast.Import) else node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        banned = {"httpx", "asyncio", "socket", "storage", "origin.cloudapi.client"}
        assert not {m for m in imported if m and (m.split(".")[0] in banned or m in banned)}, name
