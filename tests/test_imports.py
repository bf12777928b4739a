"""The package's import graph: data flows one way, so alignlens's modules import each other
without cycles, at module level, and importing alignlens changes nothing outside it.

The graph is read from the source (`ast`): an edge from a module to every alignlens module
it imports, at module level or inside a function, and to that module's parent packages
(whose ``__init__`` runs first) other than the importer's own (which Python has already
begun, so a package's facade may import its own modules). Imports under
``if TYPE_CHECKING:`` are type hints only and are left out. A function may import an
alignlens module only to defer a heavy optional dependency: the imported module must
bring in one of `HEAVY` at module level, itself or through what it imports.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = frozenset(
    {
        "equinox",
        "gymnasium",
        "jax",
        "matplotlib",
        "minigrid",
        "numba",
        "optax",
        "pyarrow",
        "ray",
        "stable_baselines3",
        "torch",
    }
)


def module_name(path: Path) -> str:
    name = ".".join(path.relative_to(SRC).with_suffix("").parts)
    return name.removesuffix(".__init__")


MODULES = {module_name(p): p for p in SRC.joinpath("alignlens").rglob("*.py")}


def is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(tree: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every import statement with whether it sits inside a function (type-checking blocks
    left out)."""
    for node in ast.iter_child_nodes(tree):
        if is_type_checking(node):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, in_function
        else:
            inner = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from imports(node, inner)


def targets(module: str, node: ast.AST) -> list[str]:
    """The alignlens modules an import statement names (a name imported from a package
    counts as its submodule when there is one)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    if base not in MODULES:
        return []
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]


def ancestors(name: str) -> list[str]:
    """The packages above a module, outermost first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def entered(importer: str, target: str) -> set[str]:
    """The modules an import of ``target`` runs: it and the packages above it that are not
    above ``importer``."""
    own = set(ancestors(importer)) | {importer}
    return {target} - {importer} | set(ancestors(target)) - own


Edges = dict[str, set[str]]


def graph() -> tuple[Edges, Edges, Edges, Edges]:
    """Module-level edges, function-level edges (both with parent packages), the modules
    functions import by name, and the third-party packages each module imports at module
    level."""
    top: Edges = {m: set() for m in MODULES}
    late: Edges = {m: set() for m in MODULES}
    named_late: Edges = {m: set() for m in MODULES}
    outside: Edges = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for node, in_function in imports(ast.parse(path.read_text())):
            found = targets(module, node)
            edges = late if in_function else top
            for target in found:
                edges[module].update(entered(module, target))
                if in_function:
                    named_late[module].add(target)
            if not in_function and not found:
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                if not getattr(node, "level", 0):
                    outside[module].update(n.split(".")[0] for n in names)
    return top, late, named_late, outside


def cycles(edges: Edges) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(edges)))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def heavy(module: str, top: Edges, outside: Edges) -> bool:
    """Whether importing the module brings in a heavy dependency at module level."""
    seen, todo = set(), [module]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            if outside[m] & HEAVY:
                return True
            todo.extend(top[m])
    return False


def test_the_package_has_no_import_cycles() -> None:
    top, late, _, _ = graph()
    both = {m: top[m] | late[m] for m in MODULES}
    assert cycles(both) == []


def test_functions_import_alignlens_modules_only_to_defer_heavy_dependencies() -> None:
    top, _, named_late, outside = graph()
    light = sorted(
        f"{module} imports {target} in a function"
        for module, found in named_late.items()
        for target in found
        if not heavy(target, top, outside)
    )
    assert light == []


def test_the_graph_reader_sees_cycles_and_late_imports(tmp_path: Path) -> None:
    """The checks above can fail: a two-module cycle is found, and so is the graph's own
    reading of a function-level import."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    tree = ast.parse("import os\ndef f():\n    from alignlens.world import model\n")
    found = [(ast.unparse(n), late) for n, late in imports(tree)]
    assert found == [("import os", False), ("from alignlens.world import model", True)]


def python_output(program: str) -> str:
    """What a fresh Python process running ``program`` prints (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_importing_alignlens_changes_no_jax_setting() -> None:
    """Every module imported, JAX still computes in its default 32 bits (64 bits are asked
    for around the computations that need them, `alignlens.precision`)."""
    names = sorted(m for m in MODULES if not m.endswith("__main__"))
    program = (
        "import importlib, jax\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "    assert not jax.config.jax_enable_x64, name\n"
        "print('ok')\n"
    )
    assert python_output(program) == "ok"


def test_a_command_imports_only_its_own_group() -> None:
    """`alignlens run` loads the scenario commands, not the sweep's store and runner nor the
    Gymnasium readers (the command line loads each command's module when it runs)."""
    program = (
        "import sys\n"
        "from alignlens.cli.app import app\n"
        "from typer.main import get_command\n"
        "get_command(app).get_command(None, 'run')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('alignlens'))))\n"
    )
    loaded = set(python_output(program).split())
    assert "alignlens.cli.scenarios" in loaded
    assert not loaded & {"alignlens.cli.sweep", "alignlens.cli.gym", "alignlens.sweep.runner"}
    assert not any(m.startswith("alignlens.world.gym") for m in loaded)
