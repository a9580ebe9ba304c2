"""Evidence files: what a person may send with a report, decided by content, and cleaned.

The type of a file is decided here from its bytes alone, never from its name or the type the
client declared: JPEG, PNG, GIF and WebP images, PDF, and plain UTF-8 text. Anything else (a
zip, a program, a web page or SVG named .jpg) is refused with a reason code the conversation
turns into a sentence.

Images are decoded by Pillow (only with the decoder their magic bytes name), turned upright
from their EXIF orientation, and re-encoded from their pixels alone: no EXIF (so no GPS, camera
or author), no XMP, no ICC profile (colours are first converted to sRGB), no PNG text chunks
and no comments are carried over; anything appended after the image data goes too. A JPEG
stays a JPEG; other images become PNG (animations keep their first frame). Images over
MAX_PIXELS (decompression bombs included) are refused before their pixels are decoded.

PDFs and text are kept byte for byte (see docs/privacy.md for what that leaves in a PDF), but
a PDF whose dictionaries name active content (JavaScript, launch actions, embedded files,
rich media, XFA forms) is refused, and text that is really markup (HTML, SVG, XML) is too.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

# A 12-megapixel phone photo is 12 million; a 48-megapixel one does not fit (Teams sends
# photos smaller); a "bomb" (a small file that decodes to gigabytes) does not either.
MAX_PIXELS = 40_000_000


@dataclass(frozen=True)
class FileKind:
    """One kind of file the bot keeps: how it is served and named."""

    media_type: str
    extension: str
    label: str  # as a person reads it: "JPEG image"
    stem: str  # a neutral name's first part: "image", "document", "text"


JPEG = FileKind("image/jpeg", "jpg", "JPEG image", "image")
PNG = FileKind("image/png", "png", "PNG image", "image")
PDF = FileKind("application/pdf", "pdf", "PDF document", "document")
TEXT = FileKind("text/plain", "txt", "text file", "text")
KINDS = {kind.media_type: kind for kind in (JPEG, PNG, PDF, TEXT)}

# Pillow's name for each image format the magic bytes may name.
_IMAGE_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}
# Names in a PDF's dictionaries that make it do something when opened.
_ACTIVE_PDF_NAMES = frozenset(
    {"javascript", "js", "launch", "embeddedfile", "embeddedfiles", "richmedia", "xfa"}
)
_PDF_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]{1,64})")
_PDF_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_MARKUP = re.compile(
    r"<\s*(!doctype|html|head|body|script|svg|\?xml|iframe|object|embed|meta|style|a\s)",
    re.IGNORECASE,
)


class EvidenceRefused(ValueError):
    """A file the bot will not keep. `reason`: empty, too_big, wrong_type, too_many_pixels,
    unreadable or active_pdf (words for each in content/incidents/words.yaml)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CleanFile:
    """A file ready to be sealed: its bytes (cleaned), its kind, and their SHA-256."""

    data: bytes
    kind: FileKind

    @property
    def digest(self) -> str:
        """SHA-256 of the bytes, hex: checked again when the sealed chunks are put together."""
        return hashlib.sha256(self.data).hexdigest()


def sniff(data: bytes) -> str | None:
    """The media type the first bytes name, or None (text is decided by `_is_plain_text`)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def clean(data: bytes, *, max_bytes: int) -> CleanFile:
    """The file as the bot keeps it, or EvidenceRefused. Decodes images: run it in a thread."""
    if not data:
        raise EvidenceRefused("empty")
    if len(data) > max_bytes:
        raise EvidenceRefused("too_big")
    media = sniff(data)
    if media in _IMAGE_FORMATS:
        return _clean_image(data, media)
    if media == "application/pdf":
        _check_pdf(data)
        return CleanFile(data, PDF)
    if _is_plain_text(data):
        return CleanFile(data, TEXT)
    raise EvidenceRefused("wrong_type")


def _is_plain_text(data: bytes) -> bool:
    """UTF-8 with no control characters but tabs, line ends and form feeds, and no markup."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text):
        return False
    return _MARKUP.search(text) is None


def _check_pdf(data: bytes) -> None:
    """A whole PDF (it ends with %%EOF) naming no active content, even hex-escaped
    (/J#61vaScript). Names inside compressed object streams are not seen: docs/privacy.md."""
    if b"%%EOF" not in data[-2048:]:
        raise EvidenceRefused("unreadable")
    for match in _PDF_NAME.finditer(data):
        name = _PDF_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        if name.decode("latin-1").lower() in _ACTIVE_PDF_NAMES:
            raise EvidenceRefused("active_pdf")


def _clean_image(data: bytes, media: str) -> CleanFile:
    with warnings.catch_warnings():
        # Pillow warns above its own limit and refuses at twice it; both are bombs here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[_IMAGE_FORMATS[media]]) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise EvidenceRefused("too_many_pixels")
                image.seek(0)
                pixels = _upright_srgb(image)
        except EvidenceRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise EvidenceRefused("too_many_pixels") from None
        except (OSError, SyntaxError, ValueError, EOFError, TypeError):
            raise EvidenceRefused("unreadable") from None
    out = io.BytesIO()
    if media == "image/jpeg" and pixels.mode in ("RGB", "L"):
        pixels.save(out, "JPEG", quality=90)
        return CleanFile(out.getvalue(), JPEG)
    pixels.save(out, "PNG", compress_level=6)
    return CleanFile(out.getvalue(), PNG)


def _upright_srgb(image: Image.Image) -> Image.Image:
    """The first frame's pixels, turned as its EXIF orientation says, in sRGB (or grey),
    as a new image holding no metadata at all."""
    image.load()
    upright = ImageOps.exif_transpose(image) or image
    transparent = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    mode = "RGBA" if transparent else "L" if upright.mode in ("1", "L") else "RGB"
    icc = upright.info.get("icc_profile")
    converted = upright.convert(mode)
    if icc and mode != "L":
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
            converted = (
                ImageCms.profileToProfile(converted, source, srgb, outputMode=mode) or converted
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # an unusable profile: the pixels as they are
    # convert() made a new image; save() writes only what it is passed and what `info` holds,
    # so with `info` empty no EXIF, XMP, ICC profile, comment or text chunk is written
    # (tests/incidents/test_evidence_files.py reads every output back to prove it).
    converted.info = {}
    return converted


def safe_name(given: str, kind: FileKind, *, number: int) -> str:
    """A file name to show and to download as: the name sent, without folders, control
    characters or its claimed extension, ending in the kind's real extension; a neutral
    name (`neutral_name`) if nothing is left."""
    base = re.split(r"[\\/]", given or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    stem = base.rsplit(".", 1)[0].strip(" .")[:80]
    return f"{stem}.{kind.extension}" if stem else neutral_name(kind, number)


def neutral_name(kind: FileKind, number: int) -> str:
    """A name that says nothing about the sender: "image-1.jpg", "document-2.pdf"."""
    return f"{kind.stem}-{number}.{kind.extension}"


def size_text(size: int) -> str:
    """A size as a person reads it: "820 bytes", "14 KB", "1.2 MB"."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"
