"""Google Docs made by uploading safe HTML to Drive with conversion, one per record id."""

import io

from googleapiclient.http import MediaIoBaseUpload

from core.integrations.base import DocBlock, TransientError
from core.integrations.escape import html_text, safe_url
from core.integrations.google_auth import GoogleServices, execute

RECORD_KEY = "outcomesRecordId"
DOC_MIME = "application/vnd.google-apps.document"
_CELL = 'style="border:1px solid #999999;padding:4px 8px;vertical-align:top"'


def _table(rows: list[list[str]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th {_CELL}>{html_text(c)}</th>" for c in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td {_CELL}>{html_text(c)}</td>" for c in row) + "</tr>"
        for row in rows[1:]
    )
    return (
        '<table border="1" cellpadding="4" style="border-collapse:collapse">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def render_block(block: DocBlock) -> str:
    """Render one block; all text escaped, links only for http(s) URLs."""
    if block.kind == "heading":
        level = min(max(int(block.level or 2), 1), 3)
        return f"<h{level}>{html_text(block.text)}</h{level}>"
    if block.kind == "bullets":
        items = "".join(f"<li>{html_text(i)}</li>" for i in block.items)
        return f"<ul>{items}</ul>" if items else ""
    if block.kind == "table":
        return _table(block.rows)
    if block.kind == "link":
        url = safe_url(block.url)
        label = html_text(block.text or block.url)
        return f'<p><a href="{html_text(url)}">{label}</a></p>' if url else f"<p>{label}</p>"
    return f"<p>{html_text(block.text)}</p>" if block.text else ""


def render_html(title: str, blocks: list[DocBlock]) -> str:
    """Render a whole document as HTML for Drive's import to Google Docs."""
    body = "\n".join(part for part in (render_block(b) for b in blocks) if part)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{html_text(title)}</title></head>\n<body>\n{body}\n</body></html>\n"
    )


def record_query(record_id: str) -> str:
    """Return the Drive search for the document tagged with `record_id`."""
    value = record_id.replace("\\", "\\\\").replace("'", "\\'")
    return f"appProperties has {{ key='{RECORD_KEY}' and value='{value}' }} and trashed = false"


class DriveDocuments:
    """Create one Google Doc per record in a folder; acting as `subject` or the service account."""

    def __init__(self, services: GoogleServices, *, folder_id: str, subject: str | None = None):
        self.services = services
        self.folder_id = folder_id
        self.subject = subject

    def find_document(self, record_id: str) -> str | None:
        """Return the link of the document made before for `record_id`, if any."""
        files = self.services.service("drive", self.subject).files()
        found = execute(
            files.list(
                q=record_query(record_id),
                fields="files(id, webViewLink)",
                pageSize=1,
                supportsAllDrives=True,
                includeItemsFromAllDrives=True,
            ),
            "drive files.list",
        )
        items = found.get("files") if isinstance(found, dict) else None
        if items is None:
            raise TransientError("Drive files.list: answer has no files", code="malformed_response")
        if not items:
            return None
        doc = items[0] if isinstance(items[0], dict) else {}
        if doc.get("webViewLink"):
            return str(doc["webViewLink"])
        if doc.get("id"):
            return f"https://docs.google.com/document/d/{doc['id']}/edit"
        raise TransientError("Drive files.list: file without id", code="malformed_response")

    def upsert_document(self, *, record_id: str, title: str, blocks: list[DocBlock]) -> str:
        """Return the URL of the record's document, creating it on first call."""
        existing = self.find_document(record_id)
        if existing:
            return existing
        html = render_html(title, blocks).encode("utf-8")
        media = MediaIoBaseUpload(io.BytesIO(html), mimetype="text/html", resumable=False)
        metadata = {
            "name": title,
            "mimeType": DOC_MIME,
            "parents": [self.folder_id],
            "appProperties": {RECORD_KEY: record_id},
        }
        files = self.services.service("drive", self.subject).files()
        request = files.create(
            body=metadata, media_body=media, fields="id, webViewLink", supportsAllDrives=True
        )
        created = execute(self.services.align_upload(request), "drive files.create")
        link = created.get("webViewLink") if isinstance(created, dict) else None
        if not link:
            raise TransientError(
                "Drive files.create: answer has no link", code="malformed_response"
            )
        return str(link)
