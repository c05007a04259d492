"""Uploaded file names are reduced to one safe path component."""

from __future__ import annotations

import pytest

from chargegrid.firmware.http import safe_file_name


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("cp.log", "cp.log"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("my log (1).txt", "my_log_1_.txt"),
        ("..", "upload.log"),
        ("", "upload.log"),
        ("x" * 300, "x" * 200),
    ],
)
def test_names_stay_inside_the_directory(sent: str, stored: str) -> None:
    assert safe_file_name(sent) == stored
