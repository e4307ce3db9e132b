"""The package builds and installs with nothing but the standard library (offline): the in-tree
PEP 517 backend (_build/stdlib_backend.py) makes a wheel that imports, an sdist, and pip (when
this python3 has it) installs the folder with no index at all."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_build"))
import stdlib_backend  # noqa: E402

IMPORT_CHECK = "import processa_client, sys; assert not processa_client.__file__.startswith(sys.argv[1]), processa_client.__file__; print(processa_client.__file__, processa_client.__version__)"


class Packaging(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.out = Path(self.tmp.name)

    def python(self, *args: str, env: dict[str, str] | None = None) -> str:
        # -I would drop PYTHONPATH; instead run from the temp folder with a PYTHONPATH of our choosing.
        result = subprocess.run([sys.executable, *args], cwd=self.out, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}, capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result.stdout

    def test_wheel(self) -> None:
        self.assertEqual(stdlib_backend.get_requires_for_build_wheel(), [])
        name = stdlib_backend.build_wheel(str(self.out))
        self.assertEqual(name, "processa_client-0.1.0-py3-none-any.whl")
        with zipfile.ZipFile(self.out / name) as wheel:
            names = set(wheel.namelist())
            metadata = wheel.read("processa_client-0.1.0.dist-info/METADATA").decode()
            record = wheel.read("processa_client-0.1.0.dist-info/RECORD").decode()
        self.assertTrue({"processa_client/__init__.py", "processa_client/client.py", "processa_client/errors.py", "processa_client/webhooks.py", "processa_client/py.typed"} <= names)
        self.assertFalse([n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith(("tests/", "examples/"))])
        self.assertIn("Name: processa-client\n", metadata)
        self.assertIn("Requires-Python: >=3.11\n", metadata)
        self.assertNotIn("Requires-Dist", metadata)
        self.assertEqual(len(record.strip().splitlines()), len(names))
        # A pure-Python wheel is importable as a zip: the package works from it alone.
        printed = self.python("-c", IMPORT_CHECK, str(ROOT), env={"PYTHONPATH": str(self.out / name)})
        self.assertIn(name, printed)

    def test_sdist(self) -> None:
        name = stdlib_backend.build_sdist(str(self.out))
        with tarfile.open(self.out / name) as sdist:
            names = set(sdist.getnames())
        self.assertTrue({"processa_client-0.1.0/pyproject.toml", "processa_client-0.1.0/PKG-INFO", "processa_client-0.1.0/_build/stdlib_backend.py", "processa_client-0.1.0/processa_client/client.py"} <= names)

    def test_pip_installs_it_offline(self) -> None:
        if importlib.util.find_spec("pip") is None:
            print("(this python3 has no pip; the wheel test covers the build)", end=" ")
            return
        target = self.out / "site"
        self.python("-m", "pip", "install", "--no-index", "--no-deps", "--no-cache-dir", "--disable-pip-version-check", "--quiet", "--target", str(target), str(ROOT), env={"PIP_NO_INDEX": "1"})
        printed = self.python("-c", IMPORT_CHECK, str(ROOT), env={"PYTHONPATH": str(target)})
        self.assertIn(str(target), printed)


if __name__ == "__main__":
    unittest.main()
