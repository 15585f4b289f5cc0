"""Every place that sends a reader to a section of a document names one
that exists (a heading, or a paragraph's bold lead): `docs/operations.md, 'Memory'` in a script's message,
`(docs/operations.md, "Rotating")` in a unit file, `[text](#anchor)` and
`[text](other.md#anchor)` in the documents. A renamed section otherwise
leaves readers at a dead end (issue 24 item 4)."""
import os
import re

from deploykit import REPO

DOCS = {p.name: p for p in (REPO / "docs").glob("*.md")}
DOCS["README.md"] = REPO / "README.md"
SKIP_DIRS = {".git", "vectors", "node_modules"}
# docs/X.md, 'Section' or "Section" (a comment's line breaks and markers
# may come in between).
REF = re.compile(r"\b([A-Za-z]+\.md)(?:[,:]\s*|\s+)(?:section\s+)?(['\"])([^'\"\n]{3,80})\2")
LINK = re.compile(r"\]\(([A-Za-z/._-]*\.md)?#([^)\s]+)\)")


def headings(doc):
    text = re.sub(r"```.*?```", "", DOCS[doc].read_text(encoding="utf-8"), flags=re.S)
    return [re.sub(r"^#+\s*", "", l).strip() for l in text.splitlines()
            if re.match(r"^#{1,6} ", l)]


def titles(doc):
    """Headings, and the bold leads that open a paragraph or a list item
    (`**Supervision.**`, `- **Pin the key in the image.**`): both are
    places a reader is sent to."""
    text = DOCS[doc].read_text(encoding="utf-8")
    leads = re.findall(r"^(?:[-*]\s+|\d+\.\s+)?\*\*([^*\n]+)\*\*", text, flags=re.M)
    return headings(doc) + leads


def norm(title):
    return re.sub(r"^\d+\.\s*", "", title).strip("`").lower()


def slug(title):
    """GitHub's anchor for a heading."""
    s = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return s.replace(" ", "-")


def files():
    for root, dirs, names in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith("build")
                   and not d.startswith(".")]
        for n in names:
            if n.endswith((".md", ".sh", ".py", ".c", ".h", ".conf", ".service", ".cfg",
                           ".yaml")) or n in ("Makefile", "run", "Dockerfile"):
                yield os.path.join(root, n)


def flat(text):
    """A reference may wrap over comment lines: join them, markers dropped."""
    return re.sub(r"\n\s*(?:#+|//|\*|--)?\s*", " ", text)


def test_named_sections_exist():
    bad, seen = [], 0
    for path in files():
        try:
            text = open(path, encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        for m in REF.finditer(flat(text)):
            doc, title = m.group(1), norm(m.group(3))
            if doc not in DOCS:
                continue
            seen += 1
            if not any(norm(h).startswith(title) for h in titles(doc)):
                bad.append("%s: %s, %r" % (os.path.relpath(path, REPO), doc, m.group(3)))
    assert seen > 10, "found only %d references" % seen
    assert bad == [], "sections that do not exist:\n" + "\n".join(bad)


def test_markdown_anchors_exist():
    bad = []
    for doc, p in DOCS.items():
        text = re.sub(r"```.*?```", "", p.read_text(encoding="utf-8"), flags=re.S)
        for m in LINK.finditer(text):
            target = os.path.basename(m.group(1)) if m.group(1) else doc
            if target in DOCS and m.group(2) not in {slug(h) for h in headings(target)}:
                bad.append("%s: %s#%s" % (doc, target, m.group(2)))
    assert bad == [], "anchors that name no heading:\n" + "\n".join(bad)
