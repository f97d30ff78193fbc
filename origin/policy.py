"""Per-folder cache policies: what each folder's responses say about caching, and
which folder's policy applies to a path (the most specific one)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Literal

ETagMode = Literal["strong", "weak", "off"]
IMMUTABLE = "max-age=31536000, immutable"
Disposition = Literal["inline", "attachment"]
# What a conversion can make (``?as=``, and a folder's ``convert_as``).
CONVERT_AS = ("image", "sticker", "voice", "audio", "video")


@dataclass(frozen=True, slots=True)
class Policy:
    """A folder's policy with every key resolved (nothing left to inherit)."""

    folder: str = "/"
    cache_control: str = "max-age=86400"
    last_modified: bool = True
    etag: ETagMode = "strong"
    cdn_cache_control: str | None = None
    content_disposition: Disposition | None = None
    versioned_links_immutable: bool = False
    signed: bool = False
    convert: bool = False  # convert uploads WhatsApp would refuse, instead of refusing them
    keep_original: bool = False  # keep a converted upload's original, never served
    convert_as: str | None = None  # a folder of stickers or voice notes: what to make

    def needs_content_hash(self) -> bool:
        return self.etag != "off" or self.versioned_links_immutable

    def for_versioned_link(self) -> Policy:
        """The policy of a ``?v=`` link whose hash matches the current bytes."""
        return replace(self, cache_control=IMMUTABLE)


# Keys an operator may set, in the order the README documents them.
POLICY_KEYS = tuple(f.name for f in fields(Policy) if f.name != "folder")

DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class PolicyTable:
    """Resolved policies by folder ("/" always present)."""

    by_folder: dict[str, Policy] = field(default_factory=lambda: {"/": DEFAULT_POLICY})

    def for_path(self, path: str) -> Policy:
        """The policy of the deepest configured folder containing ``path``.

        ``path`` is a URL path of a file such as ``/campaigns/2026/promo.jpg``;
        the folders tried are ``/campaigns/2026``, ``/campaigns``, then ``/``.
        Only prefixes as long as the longest configured folder are tried, so a
        hostile path of thousands of segments costs no more than a short one.
        """
        end = path.rfind("/", 0, self.longest_folder + 1)
        while end > 0:
            policy = self.by_folder.get(path[:end])
            if policy is not None:
                return policy
            end = path.rfind("/", 0, end)
        return self.by_folder["/"]

    @cached_property
    def longest_folder(self) -> int:
        return max(len(folder) for folder in self.by_folder)


def normalise_folder(folder: str) -> str:
    """``/campaigns/`` and ``/campaigns`` name the same folder."""
    return folder.rstrip("/") or "/"


def parent_folders(folder: str) -> list[str]:
    """Ancestors of a normalised folder, nearest first, ending with "/"."""
    parents = []
    while folder != "/":
        folder = folder[: folder.rfind("/")] or "/"
        parents.append(folder)
    return parents


def resolve_policies(declared: dict[str, dict[str, object]]) -> PolicyTable:
    """Fill each declared folder's missing keys from its nearest declared ancestor.

    ``declared`` maps normalised folders to the keys written for them, already
    type-checked; the built-in default stands under "/".
    """
    resolved: dict[str, Policy] = {}
    root_keys = declared.get("/", {})
    resolved["/"] = Policy(folder="/", **{**_policy_values(DEFAULT_POLICY), **root_keys})
    for folder in sorted(declared, key=lambda name: name.count("/") if name != "/" else 0):
        if folder == "/":
            continue
        ancestor = next(parent for parent in parent_folders(folder) if parent in resolved)
        inherited = _policy_values(resolved[ancestor])
        resolved[folder] = Policy(folder=folder, **{**inherited, **declared[folder]})
    return PolicyTable(resolved)


def _policy_values(policy: Policy) -> dict[str, object]:
    return {key: getattr(policy, key) for key in POLICY_KEYS}
