"""Write catalog files: plain data in, canonical YAML out, so the same data gives the same bytes.

Importers build each file as plain dicts and lists (fields in the order of the catalog format in
README.md); `render` turns that into YAML the loader reads back, and `write_if_changed` replaces a
file atomically only when its bytes differ, so an import that changes nothing touches nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

# libyaml's emitter when it is there: the same output, many times faster.
_BASE_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
WIDTH = 100  # long plain lines are folded here; folding never changes the text read back


class _Dumper(_BASE_DUMPER):  # type: ignore[misc]
    """Safe YAML with readable text: several lines as a literal block, Unicode as is."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a date shared by two talks is written twice, never as &id001 / *id001


def _represent_str(dumper: Any, text: str) -> Any:
    # A literal block keeps an abstract's paragraphs readable; the emitter falls back to a
    # quoted style when the text cannot be a block (trailing spaces, control characters).
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def render(data: dict[str, Any], header: str = "") -> str:
    """Return `data` as the YAML text of one catalog file, after an optional comment header."""
    body: str = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=WIDTH,
        indent=2,
    )
    lines = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return lines + body


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` to `path` atomically unless the file already holds it; tell if it wrote."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True
