"""Structural targets of the package (issue 14), asserted so they stay true.

Sizes, import cycles, the direction of dependencies between layers and numpydoc
docstrings are read from the source with ``ast``; nothing is imported.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "combmotif"

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60

# Numerical kernels: one loop whose state would have to be threaded through
# helpers if split, which makes them harder to check against the method, not easier.
KERNELS = {
    "neuronmotif/sample.py::evolve_layer",
}

# Bottom layer: pure computations over tensors and arrays.
CORE = (
    "combmotif.sequences", "combmotif.stats", "combmotif.perturb", "combmotif.pattern_scan", "combmotif.maxact",
    "combmotif.models.saluki", "combmotif.models.keras", "combmotif.models.anatomy",
    "combmotif.models.trunk", "combmotif.models.keras_graph", "combmotif.models.binding",
    "combmotif.models.substitution",
    "combmotif.neuronmotif.sample", "combmotif.neuronmotif.archive",
    "combmotif.neuronmotif.randomness", "combmotif.neuronmotif.demix", "combmotif.neuronmotif.ppm",
    "combmotif.neuronmotif.kmeans", "combmotif.neuronmotif.ppm_scan",
    "combmotif.motifs.formats", "combmotif.motifs.tomtom", "combmotif.motifs.databases",
    "combmotif.motifs.curated", "combmotif.motifs.meme_writer",
)
# models/loader.py is pipeline: it builds a model from a config and a checkpoint.
# Utilities every layer may use: the error classes, the atomic writer, the repository root,
# the cores a process pool may use.
BASE = ("combmotif.errors", "combmotif.io", "combmotif.paths", "combmotif.cores")
TOP = ("combmotif.validation", "combmotif.report")
# The command line sits above everything: it runs a stage, then its checks and pages.
COMMAND = ("combmotif.commands", "combmotif.__main__")

# Public definitions written before the docstring rule, still without a numpydoc
# docstring: the list may only shrink (a new public function needs one).
DOC_DEBT = Path(__file__).with_name("docstring_debt.txt")


def _modules():
    """Map dotted module name -> source path for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _within(name, prefixes):
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _resolve(module, path, node):
    """Dotted names of the package modules one import statement refers to."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([base] if base else []))
        # "from pkg import mod" imports the module pkg.mod when it exists.
        targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    resolved = set()
    for target in targets:
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        if target.startswith("combmotif") and target != module:
            resolved.add(target)
    return resolved


def _imports():
    """Map module -> package modules it imports, at module level or inside functions."""
    graph = {}
    for module, path in MODULES.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges |= _resolve(module, path, node)
        graph[module] = edges
    return graph


def _functions():
    """Yield (key, node) for every function and method of the package."""
    for module, path in MODULES.items():
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f"{rel}::{node.name}", node


def test_no_module_over_the_line_limit():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def _code_lines(node):
    """Lines of a function without its docstring.

    The numpydoc sections every public function must carry would otherwise push
    short functions over the limit; the limit is about the code.
    """
    length = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        length -= first.end_lineno - first.lineno + 1
    return length


def test_no_function_over_the_line_limit_except_kernels():
    long = {}
    for key, node in _functions():
        length = _code_lines(node)
        if length > MAX_FUNCTION_LINES and key not in KERNELS:
            long[key] = length
    assert long == {}


def test_kernel_allowlist_names_existing_functions():
    keys = {key for key, _ in _functions()}
    assert KERNELS <= keys


def test_no_import_cycle():
    graph = _imports()
    state, cycles = {}, []

    def visit(module, trail):
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_layers_import_downwards_only():
    graph = _imports()
    upward = []
    for module, targets in graph.items():
        if _within(module, BASE):
            allowed = BASE
        elif _within(module, CORE):
            allowed = CORE + BASE
        elif _within(module, TOP + COMMAND):
            continue
        else:
            allowed = None  # pipeline: anything but the top layer
        for target in targets:
            if _within(target, BASE):
                continue
            if allowed is None and _within(target, TOP) or allowed is not None and not _within(target, allowed):
                upward.append(f"{module} -> {target}")
    assert upward == []


def _returns_value(node):
    """True when the function body (not nested functions) has ``return <value>``."""
    stack = list(node.body)
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Return) and item.value is not None:
            return True
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(item))
    return False


def _takes_parameters(node):
    args = node.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    names = [n for n in names if n not in ("self", "cls")]
    return bool(names or args.vararg or args.kwarg)


def _public_definitions():
    """Yield (key, node) for public module-level functions, classes and public methods."""
    for module, path in MODULES.items():
        if any(part.startswith("_") for part in module.split(".")[1:]):
            continue
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                yield f"{rel}::{node.name}", node
                if isinstance(node, ast.ClassDef):
                    for item in node.body:
                        if isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
                            yield f"{rel}::{node.name}.{item.name}", item


def _docstring_gaps():
    missing = []
    for key, node in _public_definitions():
        doc = ast.get_docstring(node)
        if not doc:
            missing.append(f"{key}: no docstring")
            continue
        if isinstance(node, ast.ClassDef):
            continue
        decorators = {getattr(d, "id", getattr(d, "attr", "")) for d in node.decorator_list}
        if "property" in decorators:
            continue
        if _takes_parameters(node) and "Parameters" not in doc:
            missing.append(f"{key}: no Parameters section")
        if _returns_value(node) and "Returns" not in doc and "Yields" not in doc:
            missing.append(f"{key}: no Returns section")
    return missing


def _doc_debt():
    lines = DOC_DEBT.read_text().splitlines() if DOC_DEBT.is_file() else []
    return {line for line in lines if line and not line.startswith("#")}


def test_public_definitions_have_numpydoc_docstrings():
    assert sorted(set(_docstring_gaps()) - _doc_debt()) == []


def test_docstring_debt_only_shrinks():
    # An entry that is fixed must leave the list, so it cannot regress.
    assert sorted(_doc_debt() - set(_docstring_gaps())) == []
