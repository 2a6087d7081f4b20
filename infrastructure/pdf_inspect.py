"""Reading an issued report back for `report verify`: its keywords (where the report says
what it is) and its attached files. pypdf, pure Python: the check needs no renderer."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PyPdfError


def read_report(content: bytes) -> tuple[str, dict[str, bytes]]:
    """(keywords, attachments by name); ValueError when the bytes are not a PDF pypdf can
    read (say, a truncated or garbled file)."""
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are not the user's
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        info = reader.metadata
        keywords = str(info.get("/Keywords", "")) if info is not None else ""
        attachments = {name: data[0] for name, data in reader.attachments.items() if data}
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"cannot read it as a PDF ({type(error).__name__})") from None
    return keywords, attachments
