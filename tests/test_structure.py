"""The layout rules of docs/DESIGN.md, checked on the source tree: no import
cycle in python/ranvier, functional/ mirroring ops/ and reference/, one name
per kernel family in C++ and CUDA, one activation table."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "python" / "ranvier"
pytestmark = pytest.mark.skipif(not PACKAGE.is_dir(), reason="needs the source tree")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _top_level_imports(path: Path, modules: dict) -> set:
    """Modules of the package that ``path`` imports when it is imported (not inside functions)."""
    tree = ast.parse(path.read_text())
    found = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return {m for m in found if m in modules}


def test_no_import_cycle():
    modules = _modules()
    graph = {name: _top_level_imports(path, modules) for name, path in modules.items()}
    # a package's __init__ importing its own submodules is how packages work; a
    # submodule importing back through its package is not counted either
    for name in graph:
        graph[name] = {m for m in graph[name] if not (m != name and name.startswith(m + "."))}
    state: dict = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def _family_modules(folder: str) -> set:
    return {p.stem for p in (PACKAGE / folder).glob("*.py") if not p.stem.startswith("_")}


def test_functional_mirrors_ops_and_reference():
    ops = _family_modules("ops")
    assert ops == _family_modules("reference")
    # optimizer updates are not differentiable; arithmetic and shape have no kernels
    assert _family_modules("functional") == (ops - {"optim"}) | {"arithmetic", "shape"}


def test_kernel_families_have_one_name_in_cpp_cuda_and_python():
    cpp = {p.stem for p in (ROOT / "cpp" / "kernels").glob("*.cpp") if not p.stem.endswith("_simd")}
    cuda = {p.stem for p in (ROOT / "cuda" / "kernels").glob("*.cu")}
    assert cpp <= cuda, f"CPU families without a CUDA file of the same name: {sorted(cpp - cuda)}"
    assert _family_modules("ops") <= cpp, (
        f"ops modules without a CPU kernel file: {sorted(_family_modules('ops') - cpp)}"
    )


def test_activation_registry_matches_the_compiled_enum():
    from ranvier import _cpu, activations

    compiled = {"linear" if name == "none" else name for name in _cpu.ACTIVATIONS}
    assert set(activations.FUSED) == compiled
    assert set(activations.FUSED) <= set(activations.NAMES)
