import pytest

from core.integrations.base import DocBlock, NotConfigured, PermanentError, TransientError
from core.integrations.google import DriveDocuments, docs_from_settings, render_html
from tests.fakes.google import google_error

BLOCKS = [
    DocBlock(kind="heading", text="Acme <script>alert(1)</script> win", level=1),
    DocBlock(kind="paragraph", text="Onboarding time fell by 40% & NPS rose."),
    DocBlock(kind="bullets", items=["Faster setup", "Fewer <tickets>"]),
    DocBlock(kind="table", rows=[["Metric", "Baseline", "Now"], ["Days to live", "30", "18"]]),
    DocBlock(kind="link", text="Dashboard", url="https://outcomes.example.com/c/1?a=1&b=2"),
    DocBlock(kind="link", text="Bad link", url="javascript:alert(1)"),
]


@pytest.fixture
def docs(google_services):
    return DriveDocuments(google_services, folder_id="FOLDER123")


def test_upsert_creates_a_google_doc_from_safe_html(docs, fake_google):
    url = docs.upsert_document(record_id="ach-1", title="Acme: 40% faster", blocks=BLOCKS)

    (doc,) = fake_google.files.values()
    assert url == doc["webViewLink"]
    assert doc["name"] == "Acme: 40% faster"
    assert doc["mimeType"] == "application/vnd.google-apps.document"
    assert doc["parents"] == ["FOLDER123"]
    assert doc["appProperties"] == {"outcomesRecordId": "ach-1"}
    assert doc["media_type"] == "text/html"
    html = doc["html"]
    assert "<script>" not in html
    assert "<h1>Acme &lt;script&gt;alert(1)&lt;/script&gt; win</h1>" in html
    assert "<p>Onboarding time fell by 40% &amp; NPS rose.</p>" in html
    assert "<li>Fewer &lt;tickets&gt;</li>" in html
    assert "<table" in html and "border:1px solid" in html
    assert "<th " in html and ">Days to live</td>" in html
    assert '<a href="https://outcomes.example.com/c/1?a=1&amp;b=2">Dashboard</a>' in html
    assert "javascript:" not in html and "<p>Bad link</p>" in html
    (create,) = fake_google.calls("files.create")
    assert create.query["uploadType"] == "multipart"


def test_second_upsert_finds_the_existing_doc(docs, fake_google):
    first = docs.upsert_document(record_id="ach-1", title="T", blocks=BLOCKS)
    second = docs.upsert_document(record_id="ach-1", title="T", blocks=BLOCKS)
    other = docs.upsert_document(record_id="ach-2", title="T", blocks=BLOCKS)

    assert first == second != other
    assert len(fake_google.calls("files.create")) == 2
    query = fake_google.calls("files.list")[0].query["q"]
    assert query == (
        "appProperties has { key='outcomesRecordId' and value='ach-1' } and trashed = false"
    )


def test_record_ids_are_quoted_in_the_drive_query(docs, fake_google):
    tricky = "o'brien\\' or name contains 'x"
    url = docs.upsert_document(record_id=tricky, title="T", blocks=[])
    assert docs.upsert_document(record_id=tricky, title="T", blocks=[]) == url
    assert len(fake_google.calls("files.create")) == 1
    assert (
        "value='o\\'brien\\\\\\' or name contains \\'x'"
        in fake_google.calls("files.list")[0].query["q"]
    )


def test_errors_are_mapped(docs, fake_google):
    fake_google.fail_next("files.list", status=500)
    with pytest.raises(TransientError):
        docs.upsert_document(record_id="r", title="T", blocks=[])

    fake_google.script("files.create", google_error(404, "notFound", "File not found: FOLDER123"))
    with pytest.raises(PermanentError) as err:
        docs.upsert_document(record_id="r", title="T", blocks=[])
    assert err.value.code == "notFound"

    fake_google.script("files.create", google_error(403, "rateLimitExceeded"))
    with pytest.raises(TransientError):
        docs.upsert_document(record_id="r", title="T", blocks=[])

    fake_google.garbage_next("files.list")
    with pytest.raises(TransientError):
        docs.upsert_document(record_id="r", title="T", blocks=[])
    assert fake_google.files == {}


def test_render_html_clamps_headings_and_skips_empty_blocks():
    html = render_html(
        'Q3 "review"',
        [
            DocBlock(kind="heading", text="Deep", level=6),
            DocBlock(kind="paragraph", text=""),
            DocBlock(kind="bullets", items=[]),
            DocBlock(kind="table", rows=[]),
            DocBlock(kind="unknown", text="<b>kept as text</b>"),
        ],
    )
    assert "<title>Q3 &quot;review&quot;</title>" in html
    assert "<h3>Deep</h3>" in html
    assert "<p>&lt;b&gt;kept as text&lt;/b&gt;</p>" in html
    assert "<ul>" not in html and "<table" not in html and "<p></p>" not in html


def test_docs_from_settings(settings_for, fake_google):
    base = {
        "google_service_account_file": fake_google.service_account_file,
        "google_api_base_url": fake_google.base_url,
    }
    with pytest.raises(NotConfigured, match="FOLDER"):
        docs_from_settings(settings_for(**base))
    with pytest.raises(NotConfigured):
        docs_from_settings(settings_for(google_drive_folder_id="F"))
    docs = docs_from_settings(settings_for(**base, google_drive_folder_id="F"))
    assert docs.upsert_document(record_id="r", title="T", blocks=BLOCKS).startswith("https://")
