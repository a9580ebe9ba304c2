"""Evidence files, checked by content and cleaned (bot/incidents/evidence.py), and where the
bot may fetch them from (bot/channel/files.py): plain functions, no database."""

from __future__ import annotations

import io
import socket
from typing import Any

import pytest
from aiohttp.resolver import ThreadedResolver
from PIL import Image, ImageCms, PngImagePlugin
from yarl import URL

from bot.channel.files import FilePolicy, HostRule, SentFile, _PublicOnlyResolver, allowed
from bot.incidents.evidence import (
    JPEG,
    PDF,
    PNG,
    TEXT,
    EvidenceRefused,
    clean,
    neutral_name,
    safe_name,
    size_text,
)

LIMIT = 10 * 1024 * 1024
SECRETS = (b"Rosa Reporter", b"PhoneMaker", b"County Hall", b"52.6", b"xmpmeta", b"Exif\x00\x00")
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Rosa Reporter"/></rdf:RDF>'
    b"</x:xmpmeta>"
)


def exif() -> Image.Exif:
    tags = Image.Exif()
    tags[0x0112] = 8  # Orientation: turn 90° anticlockwise to view
    tags[0x013B] = "Rosa Reporter"
    tags[0x010F] = "PhoneMaker"
    tags.get_ifd(0x8825).update({1: "N", 2: (52.0, 38.0, 24.0), 3: "W", 4: (1.0, 8.0, 3.0)})
    return tags


def icc() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return bytes(profile.tobytes())


def image_bytes(
    fmt: str, mode: str = "RGB", size: tuple[int, int] = (40, 20), **save: Any
) -> bytes:
    image = Image.new(mode, size, "red" if mode != "1" else 1)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def assert_pixels_only(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert dict(image.getexif()) == {}
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"} & set(image.info)
    assert not {"Author", "Description", "Comment"} & set(image.info)
    for secret in SECRETS:
        assert secret not in data, secret
    return image


@pytest.mark.parametrize(
    ("fmt", "save", "kind"),
    [
        ("JPEG", {"comment": b"County Hall"}, JPEG),
        ("PNG", {}, PNG),
        ("WEBP", {}, PNG),
    ],
)
def test_an_image_is_rewritten_from_its_pixels_with_no_metadata(
    fmt: str, save: dict[str, Any], kind: object
) -> None:
    sent = image_bytes(fmt, exif=exif(), icc_profile=icc(), xmp=XMP, **save)
    opened = Image.open(io.BytesIO(sent))
    assert opened.getexif() and "icc_profile" in opened.info  # the sender's file has them
    kept = clean(sent, max_bytes=LIMIT)
    assert kept.kind is kind
    image = assert_pixels_only(kept.data)
    assert image.size == (20, 40), "turned upright (orientation 8) before the metadata went"


def test_png_text_chunks_and_gif_comments_go() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Rosa Reporter")
    info.add_itxt("Description", "taken at County Hall")
    info.add_text("Comment", "PhoneMaker", zip=True)
    kept = clean(image_bytes("PNG", pnginfo=info), max_bytes=LIMIT)
    assert_pixels_only(kept.data)
    gif = clean(image_bytes("GIF", mode="P", comment=b"Rosa Reporter"), max_bytes=LIMIT)
    assert gif.kind is PNG
    assert_pixels_only(gif.data)


def test_anything_appended_after_the_image_goes_too() -> None:
    polyglot = image_bytes("JPEG") + b"PK\x03\x04" + b"<script>alert(1)</script>"
    kept = clean(polyglot, max_bytes=LIMIT)
    assert b"PK\x03\x04" not in kept.data and b"<script>" not in kept.data


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b"PK\x03\x04" + b"\x00" * 64, "wrong_type", id="zip"),
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "wrong_type", id="exe"),
        pytest.param(b"\x7fELF\x02\x01\x01", "wrong_type", id="elf"),
        pytest.param(b"<!DOCTYPE html><p>hi</p>", "wrong_type", id="html"),
        pytest.param(
            b'  <svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "wrong_type", id="svg"
        ),
        pytest.param(b'<?xml version="1.0"?><a/>', "wrong_type", id="xml"),
        pytest.param("caf\u00e9".encode("latin-1"), "wrong_type", id="not-utf8"),
        pytest.param(b"hello\x00world", "wrong_type", id="nul"),
        pytest.param(b"\xff\xd8\xff\xe0 not really a jpeg", "unreadable", id="broken-jpeg"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "unreadable", id="broken-png"),
        pytest.param(b"%PDF-1.7\n1 0 obj<<>>endobj\n", "unreadable", id="pdf-cut-short"),
        pytest.param(b"%PDF-1.7\n<</S/JavaScript/JS(app.alert(1))>>\n%%EOF", "active_pdf", id="js"),
        pytest.param(b"%PDF-1.7\n<</S/J#61vaScript>>\n%%EOF", "active_pdf", id="escaped-js"),
        pytest.param(b"%PDF-1.7\n<</S/Launch/F(cmd.exe)>>\n%%EOF", "active_pdf", id="launch"),
        pytest.param(b"%PDF-1.7\n<</EmbeddedFiles 3 0 R>>\n%%EOF", "active_pdf", id="attachment"),
    ],
)
def test_a_file_is_refused_by_what_it_contains(data: bytes, reason: str) -> None:
    with pytest.raises(EvidenceRefused) as refused:
        clean(data, max_bytes=LIMIT)
    assert refused.value.reason == reason


def test_pictures_with_too_many_pixels_are_refused_before_decoding() -> None:
    # 64 million pixels in a few kilobytes: over the bot's limit (40 million).
    over_ours = image_bytes("PNG", mode="1", size=(8000, 8000))
    # 400 million: over twice Pillow's own limit, where Pillow itself refuses to open it.
    over_pillows = image_bytes("PNG", mode="1", size=(20000, 20000))
    for bomb in (over_ours, over_pillows):
        assert len(bomb) < 200_000
        with pytest.raises(EvidenceRefused) as refused:
            clean(bomb, max_bytes=LIMIT)
        assert refused.value.reason == "too_many_pixels"


def test_pdfs_and_text_are_kept_as_sent_and_size_is_checked() -> None:
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<<>>\n%%EOF\n"
    assert clean(pdf, max_bytes=LIMIT).data == pdf and clean(pdf, max_bytes=LIMIT).kind is PDF
    note = "He said it twice.\r\n\tBy the lifts, 3 March \u2013 \U0001f622\n".encode()
    assert clean(note, max_bytes=LIMIT).kind is TEXT
    assert clean(b"\xef\xbb\xbfwith a BOM", max_bytes=LIMIT).kind is TEXT
    with pytest.raises(EvidenceRefused) as refused:
        clean(note, max_bytes=len(note) - 1)
    assert refused.value.reason == "too_big"


def test_names_lose_folders_control_characters_and_their_claimed_type() -> None:
    assert safe_name("photo.jpg", PNG, number=2) == "photo.png"
    assert safe_name("C:\\Users\\rosa\\evil\x00\u202e.pdf.exe", TEXT, number=1) == "evil.pdf.txt"
    assert safe_name("../../etc/passwd", TEXT, number=1) == "passwd.txt"
    assert safe_name("   ", JPEG, number=3) == neutral_name(JPEG, 3) == "image-3.jpg"
    assert neutral_name(PDF, 1) == "document-1.pdf" and neutral_name(TEXT, 2) == "text-2.txt"
    assert [size_text(n) for n in (820, 14 * 1024, 1_258_291)] == ["820 bytes", "14 KB", "1.2 MB"]


# ---- where files may come from --------------------------------------------------------------

POLICY = FilePolicy.of(
    ["*.sharepoint.com", "*.sharepoint-df.com", "http://127.0.0.1:8080"],
    max_bytes=LIMIT,
    timeout_seconds=5,
    production=True,
)
SERVICE_URL = "https://smba.trafficmanager.net/emea/"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://contoso.sharepoint.com/_layouts/15/download.aspx?x=1", True),
        ("https://contoso-my.sharepoint-df.com/f", True),
        ("https://sharepoint.com/f", False),
        ("https://contoso.sharepoint.com.evil.example/f", False),
        ("https://evilsharepoint.com/f", False),
        ("http://contoso.sharepoint.com/f", False),  # https only
        ("https://contoso.sharepoint.com:8443/f", False),
        ("https://user:pass@contoso.sharepoint.com/f", False),
        ("http://127.0.0.1:8080/files/a", True),
        ("http://127.0.0.1:8081/files/a", False),
        ("http://169.254.169.254/latest/meta-data", False),
        ("file:///etc/passwd", False),
        ("https://smba.trafficmanager.net/emea/v3/attachments/1/views/original", False),
    ],
)
def test_download_links_only_from_the_allow_list(url: str, ok: bool) -> None:
    file = SentFile("a.jpg", url, inline=False)
    assert allowed(URL(url), file=file, service_url=SERVICE_URL, policy=POLICY) is ok


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://smba.trafficmanager.net/emea/v3/attachments/1/views/original", True),
        ("https://smba.trafficmanager.net:444/v3/attachments/1/views/original", False),
        ("http://smba.trafficmanager.net/v3/attachments/1/views/original", False),
        ("https://contoso.sharepoint.com/f", False),  # the bot's token goes nowhere else
        ("https://smba.trafficmanager.net.evil.example/v3/attachments/1", False),
    ],
)
def test_inline_images_only_from_the_activitys_own_service(url: str, ok: bool) -> None:
    file = SentFile("", url, inline=True)
    assert allowed(URL(url), file=file, service_url=SERVICE_URL, policy=POLICY) is ok


def test_host_rules_read_as_written() -> None:
    assert HostRule.parse("*.SharePoint.com") == HostRule("https", "*.sharepoint.com", None)
    assert HostRule.parse("http://127.0.0.1:8080") == HostRule("http", "127.0.0.1", 8080)


async def test_in_production_a_name_must_resolve_to_public_addresses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = {
        "inside.sharepoint.com": ["10.1.2.3", "127.0.0.1"],
        "mixed.sharepoint.com": ["192.168.0.9", "13.107.136.9"],
    }

    async def resolve(self: Any, host: str, port: int = 0, family: Any = socket.AF_INET) -> Any:
        return [
            {"hostname": host, "host": a, "port": port, "family": family, "proto": 0, "flags": 0}
            for a in answers[host]
        ]

    monkeypatch.setattr(ThreadedResolver, "resolve", resolve)
    resolver = _PublicOnlyResolver()
    with pytest.raises(OSError):
        await resolver.resolve("inside.sharepoint.com", 443)
    assert [r["host"] for r in await resolver.resolve("mixed.sharepoint.com", 443)] == [
        "13.107.136.9"
    ]
