"""Builds the Python package with the project's CMake (pyproject.toml names this backend): the
module _dagprop, the package files and the type stubs come from the target dagprop_python, built
for the interpreter that runs pip, and are copied into the wheel."""

import os
import pathlib
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        target = pathlib.Path(self.get_ext_fullpath(ext.name)).parent
        target.mkdir(parents=True, exist_ok=True)
        # A package folder that CMake already built (build/tools/python/dagprop): packaged as it
        # is, so that the test suite checks pip and the wheel without compiling everything again.
        prebuilt = os.environ.get("DAGPROP_PYTHON_PREBUILT")
        if prebuilt:
            built = pathlib.Path(prebuilt)
            if not any(built.glob("_dagprop*.so")):
                sys.exit(f"DAGPROP_PYTHON_PREBUILT={prebuilt} holds no built module _dagprop")
            self._copy_package(built, target)
            return
        build = pathlib.Path(self.build_temp).resolve() / "cmake"
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
            f"-DPython_EXECUTABLE={sys.executable}", "-DDAGPROP_BUILD_PYTHON=ON",
            "-DDAGPROP_BUILD_TESTS=OFF", "-DDAGPROP_BUILD_TOOLS=OFF",
            "-DDAGPROP_BUILD_EXAMPLES=OFF", "-DDAGPROP_INSTALL=OFF",
        ]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        if shutil.which("ccache"):
            configure += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
        subprocess.run(configure, check=True)
        jobs = os.environ.get("DAGPROP_BUILD_JOBS", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "--build", str(build), "--target", "dagprop_python", "-j", jobs],
                       check=True)
        self._copy_package(build / "tools" / "python" / "dagprop", target)

    @staticmethod
    def _copy_package(built, target):
        for path in built.iterdir():
            if path.is_file():
                shutil.copy2(path, target / path.name)


setup(
    ext_modules=[Extension("dagprop._dagprop", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    package_data={"dagprop": ["*.pyi", "py.typed"]},
    # Not ./build: that is the CMake build folder of the README's commands.
    options={"build": {"build_base": "build-pip"}},
)
