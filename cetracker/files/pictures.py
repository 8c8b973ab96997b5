"""Looking inside a certificate file (PDF, PNG, JPEG) within bounds, and previews of it.

Runs in the bounded child of ``cetracker.files.bounded`` (``uploads`` calls it).
An image's pixel size is read from its header before anything is decoded: a
decompression bomb (a 40 KB PNG of 50,000 × 50,000 pixels) is refused at that
point. A PDF must open without a password, have a page or a few, of paper size.
"""

from __future__ import annotations

import io

from cetracker.errors import RejectedFile

FILE_TYPES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
# A 108-megapixel phone photo fits; decoded it takes 300 MB, inside the child's limit.
MAX_PIXELS = 110_000_000
MAX_PAGES = 20
MAX_PAGE_POINTS = 14_400  # 200 inches, the largest page the PDF standard allows
PREVIEW_SIDE = 1600  # pixels on the longer side of a preview picture


def _mime(data: bytes, filename: str) -> str:
    for magic, mime in FILE_TYPES.items():
        if data.startswith(magic):
            return mime
    raise RejectedFile(
        f"{filename} is not a PDF, PNG or JPEG file. Save the certificate as one of those "
        "and attach it again."
    )


def _open_image(data: bytes, filename: str):  # type: ignore[no-untyped-def]
    from PIL import Image

    # Opening reads the header only; the size is checked here, before any decoding, with
    # words of our own (Pillow's guard would refuse without saying the size).
    Image.MAX_IMAGE_PIXELS = None
    try:
        picture = Image.open(io.BytesIO(data))
        width, height = picture.size
    except Exception as exc:
        raise RejectedFile(
            f"{filename} is not a picture that can be opened (the file is damaged). Take the "
            "photo or scan again and attach the new file."
        ) from exc
    if width * height > MAX_PIXELS:
        raise _too_many_pixels(filename, (width, height))
    return picture


def _too_many_pixels(filename: str, size: tuple[int, int]) -> RejectedFile:
    return RejectedFile(
        f"{filename} is a picture far larger than any photo ({size[0]:,} × {size[1]:,} pixels); "
        "CE Tracker opens pictures of "
        f"up to {MAX_PIXELS // 1_000_000} megapixels. Attach a photo or scan at normal size."
    )


def _open_pdf(data: bytes, filename: str):  # type: ignore[no-untyped-def]
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise RejectedFile(
                f"{filename} is password-protected. Print it to a new PDF without a password "
                "(or scan it) and attach that file."
            ) from exc
        raise RejectedFile(
            f"{filename} is not a PDF that can be opened (the file is damaged). Download or "
            "scan the certificate again and attach the new file."
        ) from exc
    pages = len(document)
    if not 1 <= pages <= MAX_PAGES:
        document.close()
        raise RejectedFile(
            f"{filename} has {pages} pages; a certificate has one or a few (at most "
            f"{MAX_PAGES}). Attach the certificate's own page(s)."
        )
    for index in range(pages):
        width, height = document[index].get_size()
        if max(width, height) > MAX_PAGE_POINTS:
            document.close()
            raise RejectedFile(
                f"{filename} has a page of {width / 72:,.0f} × {height / 72:,.0f} inches, larger "
                "than any paper. Attach the certificate as an ordinary PDF, PNG or JPEG."
            )
    return document


def inspect(data: bytes, filename: str) -> str:
    """The file's type by its content, once it is known to open within bounds."""
    mime = _mime(data, filename)
    if mime == "application/pdf":
        document = _open_pdf(data, filename)
        _render(document, 0, 200)  # a page that cannot be drawn is a damaged file
        document.close()
    else:
        picture = _open_image(data, filename)
        try:
            picture.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))  # JPEG: decode at a fraction
            picture.load()
        except Exception as exc:
            raise RejectedFile(
                f"{filename} is a damaged picture (it cannot be decoded). Take the photo or scan "
                "again and attach the new file."
            ) from exc
    return mime


def _render(document, index: int, side: int) -> bytes:  # type: ignore[no-untyped-def]
    page = document[index]
    width, height = page.get_size()
    scale = min(1.5, side / max(width, height, 1))
    out = io.BytesIO()
    page.render(scale=scale).to_pil().save(out, format="PNG")
    return out.getvalue()


def preview(data: bytes, filename: str, mime: str, limit: int = 3) -> list[bytes]:
    """At most ``limit`` pictures (PNG) of the certificate, none wider or taller than
    ``PREVIEW_SIDE`` pixels: PDF pages drawn, a photo turned upright and scaled down."""
    if mime == "application/pdf":
        document = _open_pdf(data, filename)
        pictures = [_render(document, i, PREVIEW_SIDE) for i in range(min(limit, len(document)))]
        document.close()
        return pictures
    from PIL import ImageOps

    picture = _open_image(data, filename)
    picture.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))
    picture = ImageOps.exif_transpose(picture)
    picture.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    out = io.BytesIO()
    picture.convert("RGB").save(out, format="PNG")
    return [out.getvalue()]
