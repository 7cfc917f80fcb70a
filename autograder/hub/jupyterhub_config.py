# JupyterHub 6 for an nnlab course: local system users, nbgrader's exchange and its
# JupyterLab extensions (Assignments tab for students, Formgrader for instructors).
# Every setting comes from an environment variable so `make hub`, the hub test and a real
# server share this file; scripts/ensure-hub.sh installs what it names.
#
#   NNLAB_HUB_ENV          the shared Python environment (default /var/lib/nnlab/hub-env)
#   NNLAB_HUB_PROXY        configurable-http-proxy (default <repo>/.hub/node_modules/.bin/...)
#   NNLAB_HUB_STATE        the hub's own state: database, cookie secret (default ./hub-state)
#   NNLAB_HUB_IP/PORT      where the hub listens (default 127.0.0.1:8000)
#   NNLAB_EXCHANGE         nbgrader's exchange root (default /srv/nbgrader/exchange)
#   NNLAB_COURSE           the instructor's course root (formgrader; default /srv/nnlab/course)
#   NNLAB_STUDENTS         comma-separated system user names allowed in as students
#   NNLAB_INSTRUCTORS      comma-separated system user names allowed in as instructors
#   NNLAB_HUB_PASSWORD     when set: one shared password (JupyterHub's dummy authenticator,
#                          for trying on 127.0.0.1 only); unset: PAM, the users' own passwords
import json
import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

REPO = Path(__file__).resolve().parents[2]
ENV = Path(os.environ.get("NNLAB_HUB_ENV", "/var/lib/nnlab/hub-env"))
STATE = Path(os.environ.get("NNLAB_HUB_STATE", "hub-state")).resolve()
EXCHANGE = os.environ.get("NNLAB_EXCHANGE", "/srv/nbgrader/exchange")
COURSE = os.environ.get("NNLAB_COURSE", "/srv/nnlab/course")
STUDENTS = {u for u in os.environ.get("NNLAB_STUDENTS", "").split(",") if u}
INSTRUCTORS = {u for u in os.environ.get("NNLAB_INSTRUCTORS", "").split(",") if u}
STATE.mkdir(parents=True, exist_ok=True)

c.JupyterHub.ip = os.environ.get("NNLAB_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("NNLAB_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("NNLAB_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{os.environ.get('NNLAB_HUB_PROXY_API_PORT', '8001')}")
c.ConfigurableHTTPProxy.command = [os.environ.get(
    "NNLAB_HUB_PROXY", str(REPO / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"))]
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True

c.Authenticator.allowed_users = STUDENTS | INSTRUCTORS
c.Authenticator.admin_users = INSTRUCTORS
if os.environ.get("NNLAB_HUB_PASSWORD"):
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = os.environ["NNLAB_HUB_PASSWORD"]
else:
    c.JupyterHub.authenticator_class = "pam"

# Single-user servers: JupyterLab from the shared environment, run as the user, in ~.
c.Spawner.cmd = [str(ENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120


def _nbgrader_config(role: str) -> str:
    """A folder on JUPYTER_CONFIG_PATH with the role's nbgrader_config.py (readable by all)."""
    folder = STATE / f"jupyter-{role}"
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["c = get_config()  # noqa: F821", "c.CourseDirectory.course_id = 'nnlab'",
             f"c.Exchange.root = {EXCHANGE!r}"]
    if role == "instructor":
        lines.append(f"c.CourseDirectory.root = {COURSE!r}")
    (folder / "nbgrader_config.py").write_text("\n".join(lines) + "\n")
    if role == "student":  # nbgrader's instructor tools off: students have no course folder
        (folder / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {
            "jpserver_extensions": {"nbgrader.server_extensions.formgrader": False,
                                    "nbgrader.server_extensions.course_list": False}}}))
        (folder / "labconfig").mkdir(exist_ok=True)
        (folder / "labconfig" / "page_config.json").write_text(json.dumps({
            "disabledExtensions": {f"@jupyter/nbgrader:{name}": True
                                   for name in ("formgrader", "create-assignment",
                                                "course-list")}}))
    for path in (folder, *folder.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return str(folder)


CONFIG_PATH = {role: _nbgrader_config(role) for role in ("student", "instructor")}
STATE.chmod(0o711)  # users reach their config folder, not the hub's database


def _config_path(spawner) -> str:
    return CONFIG_PATH["instructor" if spawner.user.name in INSTRUCTORS else "student"]


c.Spawner.environment = {
    "JUPYTER_CONFIG_PATH": _config_path,
    "PATH": f"{ENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
}


def _pre_spawn(spawner) -> None:
    """An instructor's server opens in the course: nbgrader's formgrader works only on a
    course root inside the server's root (students keep ~)."""
    if spawner.user.name in INSTRUCTORS:
        spawner.notebook_dir = COURSE


c.Spawner.pre_spawn_hook = _pre_spawn
