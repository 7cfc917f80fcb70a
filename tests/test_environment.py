"""environment.yml (Binder) and pyproject.toml (pip) must describe the same environment,
and environment.yml must resolve alone (pip's resolver, offline, in a fresh venv)."""

import re
import sys
import tomllib

import yaml


def _pyproject(root):
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]


def _environment(root):
    return yaml.safe_load((root / "environment.yml").read_text())


def _pins(specs):
    pins = {}
    for spec in specs:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.\-]+)", spec.strip())
        assert match, f"{spec!r} is not pinned as name==version"
        pins[match[1].lower()] = match[2]
    return pins


def test_environment_is_a_valid_conda_environment(repo_root):
    env = _environment(repo_root)
    assert env["name"] == "nnlab"
    assert env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert "pip" in conda, "environment.yml must install pip before its pip: section"
    assert len(pip_sections) == 1 and pip_sections[0], "exactly one non-empty pip: section"
    assert set(env) <= {"name", "channels", "dependencies"}


def test_environment_pins_the_python_pyproject_requires(repo_root):
    env = _environment(repo_root)
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert len(python) == 1, f"pin python once in environment.yml, found {python}"
    version = python[0].split("=", 1)[1]
    major, minor = (int(p) for p in version.split(".")[:2])
    required = _pyproject(repo_root)["requires-python"]
    floor = tuple(int(p) for p in required.removeprefix(">=").split("."))
    assert (major, minor) >= floor, (
        f"environment.yml pins python {version}; pyproject needs {required}"
    )


def test_environment_lists_exactly_the_pyproject_dependencies(repo_root):
    env = _environment(repo_root)
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    in_env = _pins(pip_section)
    in_pyproject = _pins(_pyproject(repo_root)["dependencies"])
    missing = {k: v for k, v in in_pyproject.items() if k not in in_env}
    extra = {k: v for k, v in in_env.items() if k not in in_pyproject}
    differ = {k: (in_pyproject[k], in_env[k]) for k in in_env.keys() & in_pyproject.keys()
              if in_env[k] != in_pyproject[k]}
    assert not missing, f"in pyproject.toml but not environment.yml: {missing}"
    assert not extra, f"in environment.yml but not pyproject.toml: {extra}"
    assert not differ, f"pinned differently (pyproject, environment.yml): {differ}"


def test_the_installed_environment_matches_the_pins():
    """The .venv the tests run in has exactly the pinned versions (no silent upgrade)."""
    from importlib.metadata import version

    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    pins = _pins(_pyproject(root)["dependencies"])
    wrong = {name: (pin, version(name)) for name, pin in pins.items() if version(name) != pin}
    assert not wrong, f"installed versions differ from the pins (pin, installed): {wrong}"
    assert sys.version_info >= (3, 11)


# --------------------------------------------------------------------------- Binder resolves alone
# Binder builds environment.yml's pip list into an empty environment. Without a network,
# the proof is pip's own resolver run on that list alone, in a fresh venv that has nothing
# installed, against a local index holding, for every distribution this machine has, a
# wheel that carries only its real metadata (name, version, Requires-Dist, Requires-Python).
# pip resolves from metadata; --dry-run installs nothing; --no-index downloads nothing.
# So: the pins are mutually consistent, their dependencies close without .venv's extras
# (pytest, playwright, ...), and every third-party module the course imports is in the set.

def _metadata_wheelhouse(where):
    import zipfile
    from importlib.metadata import distributions

    where.mkdir()
    for dist in distributions():
        name, version = dist.metadata["Name"], dist.version
        if not name or name.lower() == "nnlab":
            continue
        stem = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}"
        info = f"{stem}.dist-info"
        with zipfile.ZipFile(where / f"{stem}-py3-none-any.whl", "w") as whl:
            whl.writestr(f"{info}/METADATA", dist.read_text("METADATA") or "")
            whl.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: nnlab-tests\n"
                                          "Root-Is-Purelib: true\nTag: py3-none-any\n")
            whl.writestr(f"{info}/RECORD", "")
    return where


def _third_party_imports(root) -> set[str]:
    """Top-level modules imported anywhere in nnlab/ and autograder/, minus the stdlib
    and the project's own packages."""
    import ast

    found = set()
    for package in ("nnlab", "autograder"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"nnlab", "autograder", "bench", "__future__"}


def test_binder_environment_resolves_on_its_own_and_holds_every_import(repo_root, tmp_path):
    import json
    import subprocess
    from importlib.metadata import packages_distributions

    pip_section = next(d["pip"] for d in _environment(repo_root)["dependencies"]
                       if isinstance(d, dict))
    (tmp_path / "pins.txt").write_text("\n".join(pip_section) + "\n")
    wheels = _metadata_wheelhouse(tmp_path / "wheels")
    fresh = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(fresh)], check=True)
    report = tmp_path / "report.json"
    env = {"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": "/dev/null",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(fresh / "bin" / "python"), "install",
         "--dry-run", "--no-index", "--find-links", str(wheels), "--report", str(report),
         "--quiet", "-r", str(tmp_path / "pins.txt")],
        capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, f"environment.yml does not resolve alone:\n{done.stderr[-3000:]}"
    resolved = {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
                for item in json.loads(report.read_text())["install"]}
    for name, version in _pins(pip_section).items():
        assert resolved.get(name.replace("_", "-")) == version, (name, version)
    assert "pytest" not in resolved and "playwright" not in resolved  # .venv's extras stay out
    owners = packages_distributions()
    missing = {}
    for module in sorted(_third_party_imports(repo_root)):
        dists = {d.lower().replace("_", "-") for d in owners.get(module, [module])}
        if not dists & set(resolved):
            missing[module] = sorted(dists)
    assert not missing, f"imported by the course but not in Binder's environment: {missing}"
