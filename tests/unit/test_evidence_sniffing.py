"""What is accepted as an evidence document is decided from its bytes and refused with the
field named: never a page, a script or a program, whatever its name or claimed type."""

from __future__ import annotations

import pytest

from domain.errors import InvalidValueError
from infrastructure.evidence_store import MAX_EVIDENCE_BYTES, clean_file_name, sniff


@pytest.mark.parametrize(("content", "expected"), [
    (b"%PDF-1.7\n...", "application/pdf"),
    (b"\x89PNG\r\n\x1a\nrest", "image/png"),
    (b"\xff\xd8\xff\xe0jpeg", "image/jpeg"),
    (b"PK\x03\x04docx", "application/zip"),
    ("attendance register, Zoë & co\n".encode(), "text/plain"),
])
def test_accepted_documents_are_typed_by_their_bytes(content: bytes, expected: str) -> None:
    assert sniff(content, file_name="evidence.bin") == expected


@pytest.mark.parametrize(("content", "name"), [
    (b"<html><script>alert(1)</script></html>", "register.pdf"),
    (b"  <svg onload=alert(1)>", "chart.txt"),
    (b"%PDF-1.7", "register.pdf.html"),
    (b"%PDF-1.7", "tool.exe"),
    (b"\x00\x01binary", "data.bin"),
    (b"", "empty.pdf"),
])
def test_pages_scripts_programs_and_junk_are_refused(content: bytes, name: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        sniff(content, file_name=name)
    assert refused.value.field == "document_file"


def test_an_oversized_document_is_refused_naming_the_limit() -> None:
    with pytest.raises(InvalidValueError, match="over the limit of 10 MB"):
        sniff(b"%PDF-" + b"0" * MAX_EVIDENCE_BYTES)


def test_file_names_lose_paths_and_control_characters() -> None:
    assert clean_file_name("C:\\Users\\x\\..\\reg\u0007ister\".pdf") == "register.pdf"
    assert clean_file_name("../../etc/passwd") == "passwd"
    assert clean_file_name("\u202e") == "document"
