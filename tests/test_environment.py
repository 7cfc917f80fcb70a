"""environment.yml (Binder) and pyproject.toml (pip) must describe the same environment."""

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
