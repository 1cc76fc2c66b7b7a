"""faq.yaml ``media`` and ``buttons``: what loads, and every bad file or link named
with its file and line, the entry's answer loading without it."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from sellerdesk.faq.content.faq_file import check_media, image_size, load_faq_file
from sellerdesk.faq.content.model import DOCUMENT, PHOTO, Entry

ENTRY = "entries:\n  - id: sizes\n    questions: [Таблица размеров?]\n    answer: См. картинку\n"


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")
        )

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def jpeg(width: int, height: int) -> bytes:
    """The start of a JPEG: SOI, an APP0 segment, then a baseline frame header."""
    app0 = b"\xff\xe0" + (16).to_bytes(2, "big") + b"JFIF\x00" + bytes(9)
    sof = b"\xff\xc0" + (17).to_bytes(2, "big") + b"\x08" + height.to_bytes(2, "big")
    return b"\xff\xd8" + app0 + sof + width.to_bytes(2, "big") + bytes(10)


def load(tmp_path: Path, extra: str) -> tuple[list[Entry], list[str]]:
    faq = tmp_path / "faq.yaml"
    faq.write_text(ENTRY + extra, "utf-8")
    entries, problems = load_faq_file(faq)
    return entries, [str(p) for p in problems]


def test_pictures_pdfs_and_link_buttons_load(tmp_path: Path) -> None:
    (tmp_path / "charts").mkdir()
    (tmp_path / "charts" / "size.png").write_bytes(png(800, 600))
    (tmp_path / "shoes.JPG").write_bytes(jpeg(640, 480))
    entries, problems = load(
        tmp_path,
        "    media: [charts/size.png, shoes.JPG]\n"
        "    buttons:\n"
        "      - text: {ru: Таблица, en: Chart}\n"
        "        url: https://example.com/sizes?x=1\n"
        "      - text: Shop\n"
        "        url: http://shop.example\n",
    )
    assert problems == []
    (entry,) = entries
    assert [(m.name, m.kind) for m in entry.media] == [
        ("charts/size.png", PHOTO),
        ("shoes.JPG", PHOTO),
    ]
    assert entry.media[0].size == len(png(800, 600)) and len(entry.media[0].digest) == 64
    assert entry.buttons[0].text_in("en") == "Chart" and entry.buttons[0].text_in("zh", ["ru"])
    assert entry.buttons[1].url == "http://shop.example"
    (tmp_path / "cert.pdf").write_bytes(b"%PDF-1.7\n")
    entries, problems = load(tmp_path, "    media: [cert.pdf]\n")
    assert problems == [] and entries[0].media[0].kind == DOCUMENT


def test_image_sizes_are_read_from_png_and_jpeg_headers() -> None:
    assert image_size(png(1200, 30)) == (1200, 30)
    assert image_size(jpeg(640, 480)) == (640, 480)
    assert image_size(b"GIF89a") is None
    assert image_size(b"\xff\xd8\xff") is None  # cut short


@pytest.mark.parametrize(
    ("files", "media", "expected"),
    [
        ({}, "[size.png]", "'size.png': no such file"),
        ({"big.png": png(10, 10) + bytes(11 * 2**20)}, "[big.png]", "10 MB at most"),
        ({"big.pdf": b"%PDF-" + bytes(30 * 2**20)}, "[big.pdf]", "20 MB at most"),
        ({"text.png": b"just some text"}, "[text.png]", "not a PNG or JPEG picture"),
        ({"fake.pdf": png(5, 5)}, "[fake.pdf]", "not a PDF file"),
        ({"chart.gif": b"GIF89a"}, "[chart.gif]", "only .png, .jpg and .pdf"),
        ({"long.png": png(20_000, 10)}, "[long.png]", "20000x10"),
        ({"a.png": png(5, 5)}, "[a.png, a.png]", "listed twice"),
        ({"a.png": png(5, 5), "b.pdf": b"%PDF-1"}, "[a.png, b.pdf]", "cannot go in one answer"),
        ({}, "[../../etc/passwd.png]", "outside the seller's folder"),
        ({}, "[/etc/secret.png]", "inside the seller's folder"),
        ({"empty.png": b""}, "[empty.png]", "is empty"),
        ({}, "size.png", "expected a list"),
        ({}, "[]", "list at least one file"),
    ],
)
def test_a_bad_media_file_is_named_with_its_line(
    tmp_path: Path, files: dict[str, bytes], media: str, expected: str
) -> None:
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    entries, problems = load(tmp_path, f"    media: {media}\n")
    assert len(problems) == 1, problems
    assert "faq.yaml:5" in problems[0] and expected in problems[0], problems[0]
    # The entry still answers, without the files.
    assert [e.media for e in entries] == [()]


@pytest.mark.parametrize(
    ("button", "expected"),
    [
        ("{text: Sizes, url: 'ftp://example.com/s'}", "not a web link"),
        ("{text: Sizes, url: example.com/sizes}", "not a web link"),
        ("{text: Sizes, url: 'javascript:alert(1)'}", "not a web link"),
        ("{text: Sizes, url: 'https://exa mple.com'}", "not a web link"),
        ("{text: Sizes, url: 'https://'}", "not a web link"),
        ("{text: Sizes}", "missing required key"),
        ("{text: '', url: 'https://e.com'}", "must not be empty"),
        ("{text: " + "x" * 65 + ", url: 'https://e.com'}", "a button takes 64"),
        ("{text: Sizes, url: 'https://e.com', color: red}", "unknown key"),
    ],
)
def test_a_bad_link_button_is_named_with_its_line(
    tmp_path: Path, button: str, expected: str
) -> None:
    entries, problems = load(tmp_path, f"    buttons:\n      - {button}\n")
    assert problems and all("faq.yaml:6" in p for p in problems), problems
    assert any(expected in p for p in problems), problems
    assert [e.buttons for e in entries] == [()]


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(png(5, 5))
    folder = tmp_path / "seller"
    folder.mkdir()
    (folder / "chart.png").symlink_to(outside)
    assert "outside the seller's folder" in str(check_media(folder, "chart.png"))
