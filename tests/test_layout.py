"""The package's layout: stages do not import each other, no cycles, short import chains,
short modules, and docs/developing.md names only things that exist."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "optimal_analysis"
DOC = REPO / "docs" / "developing.md"
#: Stages (subpackages or modules named as their rule files); everything else in the package
#: is a shared vocabulary or stats/, below every stage.
STAGES = {"ingest", "cohort", "rates", "costing", "survival", "describe", "report", "figures",
          "synthetic", "evaluation", "weighting", "economics", "regions"}
MAX_CHAIN = 4  # stage -> vocabulary -> stats
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        name = ".".join(("optimal_analysis", *path.relative_to(SRC).with_suffix("").parts))
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Package modules ``name`` imports (type-checking-only imports left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
            and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            targets = [base, *(f"{base}.{a.name}" for a in node.names)]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph = {n: _imports(n, p, set(mods)) for n, p in mods.items()}
    # a package's __init__ re-exporting its own modules is not an import between floors
    for n, deps in graph.items():
        is_init = mods[n].name == "__init__.py"
        graph[n] = {d for d in deps if not (is_init and d.startswith(n + "."))
                    and not (n.startswith(d + ".") and mods[d].name == "__init__.py")}
    return graph


def _stage(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_no_stage_imports_another_stage():
    sideways = [(a, b) for a, deps in _graph().items() for b in deps
                if _stage(a) and _stage(b) and _stage(a) != _stage(b)]
    assert sideways == []


def test_no_import_cycle_and_chains_of_at_most_four_modules():
    graph = _graph()
    longest: dict[str, list[str]] = {}

    def chain(v: str, seen: tuple[str, ...]) -> list[str]:
        assert v not in seen, f"import cycle: {' -> '.join((*seen, v))}"
        if v not in longest:
            longest[v] = max(([v, *chain(w, (*seen, v))] for w in graph[v]), key=len,
                             default=[v])
        return longest[v]

    worst = max((chain(v, ()) for v in graph), key=len)
    assert len(worst) <= MAX_CHAIN, " -> ".join(worst)


def test_no_module_over_450_lines():
    long = {p.relative_to(SRC).as_posix(): n for p in SRC.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def _doc_files() -> list[str]:
    return sorted(set(re.findall(r"`([\w/.{},-]+\.(?:py|smk|j2))`", DOC.read_text("utf-8"))))


def _expand(name: str) -> list[str]:
    m = re.search(r"\{([^}]*)\}", name)
    if not m:
        return [name]
    return [x for alt in m.group(1).split(",")
            for x in _expand(name[: m.start()] + alt + name[m.end():])]


@pytest.mark.parametrize("name", _doc_files())
def test_every_file_the_developer_guide_names_exists(name):
    for path in _expand(name):
        if "/" in path:  # from the repository root or the package
            assert (REPO / path).exists() or (SRC / path).exists(), path
        else:  # a module of the package (the guide's tables give its package), or a script
            assert list(SRC.rglob(path)) or (REPO / "workflow" / "scripts" / path).exists(), path


@pytest.mark.parametrize(
    "dotted", sorted(set(re.findall(r"`(optimal_analysis(?:\.\w+)+)`", DOC.read_text("utf-8"))))
)
def test_every_module_and_function_the_developer_guide_names_exists(dotted):
    module, _, attr = dotted.rpartition(".")
    try:
        importlib.import_module(dotted)
    except ModuleNotFoundError:
        assert hasattr(importlib.import_module(module), attr), dotted


def _doc_rules() -> list[tuple[str, str, str]]:
    rows = re.findall(r"^\| `(\w+)` \| `(workflow/rules/\w+\.smk)` \| `(workflow/scripts/\w+\.py)`",
                      DOC.read_text("utf-8"), flags=re.M)
    return rows


def test_the_developer_guide_lists_every_rule_with_its_file_and_script():
    listed = {rule: (smk, script) for rule, smk, script in _doc_rules()}
    defined = {}
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        text = smk.read_text("utf-8")
        for block in re.split(r"^rule ", text, flags=re.M)[1:]:
            rule = block.split(":", 1)[0].strip()
            script = re.search(r'script:\s*\n\s*"\.\./scripts/(\w+\.py)"', block)
            defined[rule] = (f"workflow/rules/{smk.name}",
                             f"workflow/scripts/{script.group(1)}" if script else "")
    assert listed == defined
    mentioned = set(re.findall(r"rules? `(\w+)`", DOC.read_text("utf-8")))
    assert mentioned <= set(defined) | {"all"}, mentioned - set(defined)
