"""Model export to other runtimes' formats (``Model.export``)."""

from __future__ import annotations

FORMATS = ("onnx",)


def export_model(model, path, format: str = "onnx", **kwargs) -> None:
    if format != "onnx":
        raise ValueError(f"[export] format must be one of {', '.join(map(repr, FORMATS))}, got {format!r}")
    from ranvier.export.onnx import export_onnx

    export_onnx(model, path, **kwargs)
