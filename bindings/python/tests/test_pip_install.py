"""`pip install ./bindings/python` works: into a virtual environment that sees Debian's pyzmq
(--system-site-packages), offline (--no-index, --no-build-isolation: the build backend is
Debian's setuptools), from a copy of the source (pip's build leaves files beside the source).
The installed package is then imported from outside the source tree and used."""
import os
import shutil
import subprocess
import sys
import venv

from conftest import required_path

SOURCE = os.path.join(required_path("CRYPTCOM_SOURCE_DIR"), "bindings", "python")


def test_pip_install_into_a_venv_and_use_it(tmp_path):
    env_dir = tmp_path / "venv"
    # No pip inside (ensurepip takes seconds): Debian's pip installs into it (pip --python).
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = str(env_dir / "bin" / "python")
    source = tmp_path / "source"
    shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["CRYPTCOM_LIBRARY"] = os.path.abspath(required_path("CRYPTCOM_LIBRARY"))
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-index",
         "--no-build-isolation", "--quiet", str(source)],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert install.returncode == 0, install.stdout + install.stderr

    program = (
        "import cryptcom, zmq, sys\n"
        "print(cryptcom.__file__)\n"
        "ctx = zmq.Context()\n"
        "a = cryptcom.Socket(ctx, zmq.PAIR); a.bind('inproc://p')\n"
        "b = cryptcom.Socket(ctx, zmq.PAIR); b.connect('inproc://p')\n"
        "a.rcvtimeo = b.rcvtimeo = 10000\n"
        "b.send(b'installed'); assert a.recv() == b'installed'\n"
        "a.close(); b.close(); ctx.term()\n")
    run = subprocess.run([python, "-c", program], capture_output=True, text=True, env=env,
                         timeout=60, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(str(env_dir)), run.stdout  # the installed copy, not the source
