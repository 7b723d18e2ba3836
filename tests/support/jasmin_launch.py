"""Runs jasmind (inside Jasmin's own venv) with its machine-wide lock file moved to IVR_JASMIN_LOCK, so a
test session's Jasmin does not refuse to start beside another one on the same machine."""

import os
import runpy
import sys

import jasmin
import lockfile


class SessionLock(lockfile.FileLock):
    def __init__(self, path, *args, **kwargs):
        super().__init__(os.environ["IVR_JASMIN_LOCK"], *args, **kwargs)


lockfile.FileLock = SessionLock
script = os.path.join(os.path.dirname(jasmin.__file__), "bin", "jasmind.py")
sys.argv = [script, *sys.argv[1:]]
runpy.run_path(script, run_name="__main__")
