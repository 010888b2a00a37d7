"""Names that reach the file system or a shell: user labels become safe slugs.

A user's label (a structure file's stem, ``submit --name``) is kept verbatim in task
documents; only its slug is used for run folders, so no user string reaches a job script
or a path unquoted.
"""

from __future__ import annotations

import hashlib
import re

#: characters a slug keeps; everything else becomes '-'
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
MAX_SLUG_LENGTH = 80


def safe_slug(text: str) -> str:
    """A folder-name-safe form of ``text`` ([A-Za-z0-9._+-], no leading '-' or '.', at most
    80 characters). A text that had to change gets a short hash of the original so that two
    different labels never share a folder."""
    slug = _UNSAFE.sub("-", text).strip("-.") or "x"
    if slug != text or len(slug) > MAX_SLUG_LENGTH:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        slug = f"{slug[: MAX_SLUG_LENGTH - 9]}-{digest}"
    return slug
