import pytest

from core.integrations import escape


def test_slack_text_makes_control_sequences_inert():
    assert escape.slack_text("<!channel> & <@U1|x>") == "&lt;!channel&gt; &amp; &lt;@U1|x&gt;"


def test_mrkdwn_escapes_values_but_not_the_template():
    text = escape.mrkdwn("*{name}* reached _{goal}_", name="A&B <!here>", goal="50% <faster>")
    assert text == "*A&amp;B &lt;!here&gt;* reached _50% &lt;faster&gt;_"


def test_header_value_rejects_cr_and_lf():
    assert escape.header_value("Congrats, Acme!") == "Congrats, Acme!"
    for bad in ("Hi\r\nBcc: x@evil.test", "Hi\nthere", "Hi\rthere"):
        with pytest.raises(ValueError, match="CR or LF"):
            escape.header_value(bad)


def test_html_text_escapes_markup_and_quotes():
    assert escape.html_text('<script>alert("x")</script> & \'') == (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;"
    )


def test_safe_url_allows_only_http_and_https():
    assert escape.safe_url("https://example.com/a?b=1&c=2") == "https://example.com/a?b=1&c=2"
    assert escape.safe_url("http://example.com") == "http://example.com"
    for bad in ("javascript:alert(1)", "data:text/html,x", "ftp://x", "//x.test", "", None):
        assert escape.safe_url(bad) is None


def test_slack_link_escapes_label_and_encodes_breaking_characters():
    assert escape.slack_link("https://x.test/a|b>c", "Q3 <win> & more") == (
        "<https://x.test/a%7Cb%3Ec|Q3 &lt;win&gt; &amp; more>"
    )
    assert escape.slack_link("javascript:alert(1)", "<click>") == "&lt;click&gt;"


def test_block_helpers_escape_and_respect_limits():
    section = escape.section("<!channel> " + "x" * 4000)
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"].startswith("&lt;!channel&gt;")
    assert len(section["text"]["text"]) == escape.SECTION_TEXT_LIMIT
    prebuilt = escape.section(escape.mrkdwn("*{x}*", x="<b>"), escape=False)
    assert prebuilt["text"]["text"] == "*&lt;b&gt;*"
    assert escape.header("h" * 200)["text"]["type"] == "plain_text"
    assert len(escape.header("h" * 200)["text"]["text"]) == escape.HEADER_TEXT_LIMIT
    fields = escape.fields([("ARR <new>", "$10 & up")] * 12)
    assert len(fields["fields"]) == escape.FIELDS_LIMIT
    assert fields["fields"][0]["text"] == "*ARR &lt;new&gt;*\n$10 &amp; up"
    assert escape.context("<!here>")["elements"][0]["text"] == "&lt;!here&gt;"
    assert escape.divider() == {"type": "divider"}


def test_spreadsheet_cells_never_become_formulas():
    from core.integrations.escape import spreadsheet_cell

    assert spreadsheet_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert spreadsheet_cell("@sum") == "'@sum"
    assert spreadsheet_cell("Acme") == "Acme"
    assert spreadsheet_cell(-5) == -5
