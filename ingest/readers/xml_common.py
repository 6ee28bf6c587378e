"""Safe XML parsing shared by every XML reader (HL7 aECG now; GE MUSE, Philips later).

All XML goes through ``defusedxml``: entity declarations (billion laughs, quadratic
blow-up), external entities and DTD retrieval are refused. A size cap bounds memory.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as SafeET

from models.errors import CorruptRecordError, UnsupportedFormatError

__all__ = ["MAX_XML_BYTES", "local_name", "looks_like_xml", "parse_xml", "reject_unknown_xml"]

#: Largest XML file parsed, bytes (a 10 s 12-lead aECG is ~0.5 MB; long ones a few tens).
MAX_XML_BYTES = 256 * 1024 * 1024


def looks_like_xml(head: bytes) -> bool:
    """True when ``head`` starts (after a BOM and white space) with ``<``."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def local_name(tag: str) -> str:
    """Tag without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def parse_xml(path: Path) -> ET.Element:
    """Parse ``path`` with defusedxml and return the root element.

    Raises
    ------
    CorruptRecordError
        Entity declarations (possible XML bomb), external references, malformed XML,
        or a file larger than :data:`MAX_XML_BYTES`.
    """
    size = path.stat().st_size
    if size > MAX_XML_BYTES:
        raise CorruptRecordError(f"{path}: XML of {size} bytes exceeds {MAX_XML_BYTES} bytes")
    try:
        tree = SafeET.parse(str(path))
    except defusedxml.EntitiesForbidden as exc:
        raise CorruptRecordError(
            f"{path}: XML declares entities (possible XML bomb, e.g. billion laughs); refused"
        ) from exc
    except defusedxml.DefusedXmlException as exc:
        raise CorruptRecordError(f"{path}: unsafe XML refused ({exc})") from exc
    except ET.ParseError as exc:
        raise CorruptRecordError(f"{path}: malformed XML ({exc})") from exc
    root: ET.Element = tree.getroot()
    return root


def reject_unknown_xml(path: Path) -> None:
    """Explain why an XML file no XML reader claimed cannot be read; always raises.

    Parses safely first so that an XML bomb is reported as such.

    Raises
    ------
    CorruptRecordError
        Unsafe or malformed XML.
    UnsupportedFormatError
        Well-formed XML of an unknown kind.
    """
    root = parse_xml(path)
    raise UnsupportedFormatError(
        f"{path}: XML with root element <{local_name(root.tag)}> is not a supported ECG "
        "format (expected HL7 aECG <AnnotatedECG>)"
    )
