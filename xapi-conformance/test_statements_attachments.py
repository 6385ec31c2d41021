"""Communication 1.5 Content Types (1.5.1 application/json, 1.5.2 multipart/mixed), Data 2.4.11
Attachments, and the "attachments" parameter of Communication 2.1.3 GET Statements.
"""

from __future__ import annotations

import hashlib
import json

from support import (
    Attachment,
    absent,
    describe,
    fetch,
    media_type,
    parse_multipart,
    post_multipart,
    put_multipart,
    query,
    settle,
    store,
    with_id,
)


def essay(text: str = "here is a simple attachment") -> Attachment:
    return Attachment(text.encode())


def test_lrs_must_accept_a_multipart_post_with_the_statement_and_its_attachment(lrs, statement):
    """Communication 1.5.2.s3.b4: "When receiving a PUT or POST with a document type of
    multipart/mixed, an LRS MUST accept batches of Statements that contain Attachments in the
    Transmission Format described above." """
    attachment = essay()
    posted = with_id({**statement, "attachments": [attachment.object()]})

    response = post_multipart(lrs, [posted], [attachment.part()])

    assert response.status_code == 200, describe(response)
    assert response.json() == [posted["id"]]


def test_lrs_must_accept_a_multipart_put_with_the_statement_and_its_attachment(lrs, statement):
    """Communication 1.5.2.s3.b4: "When receiving a PUT or POST with a document type of
    multipart/mixed, an LRS MUST accept ... Statements that contain Attachments in the
    Transmission Format described above." """
    attachment = essay()
    put = with_id({**statement, "attachments": [attachment.object()]})

    response = put_multipart(lrs, put, [attachment.part()])

    assert response.status_code == 204, describe(response)
    assert fetch(lrs, put["id"])["attachments"][0]["sha2"] == attachment.sha2


def test_lrs_must_accept_a_batch_whose_statements_share_one_attachment_part(lrs, statement):
    """Communication 1.5.2.s2.b2.b5: a request "SHOULD only include one copy of an Attachment's
    data when the same Attachment is used in multiple Statements that are sent together." --
    and 1.5.2.s4.b2: "A Learning Record Provider MAY send multiple Statements where some or all
    have Attachments if using POST." """
    attachment = essay()
    batch = [with_id({**statement, "attachments": [attachment.object()]}) for _ in range(2)]

    response = post_multipart(lrs, batch, [attachment.part()])

    assert response.status_code == 200, describe(response)
    assert response.json() == [s["id"] for s in batch]


def test_lrs_must_reject_an_attachment_with_neither_file_url_nor_a_matching_part(lrs, statement):
    """Communication 1.5.2.s3.b5: "When receiving a PUT or POST with a document type of
    multipart/mixed, an LRS MUST reject batches of Statements having Attachments that neither
    contain a fileUrl nor match a received Attachment part based on their hash." """
    posted = with_id({**statement, "attachments": [essay().object()]})

    response = post_multipart(lrs, [posted])

    assert response.status_code == 400, describe(response)
    assert absent(lrs, posted["id"])


def test_lrs_must_reject_an_attachment_part_whose_hash_matches_no_attachment(lrs, statement):
    """Communication 1.5.2.s3.b5: the LRS "MUST reject batches of Statements having Attachments
    that neither contain a fileUrl nor match a received Attachment part based on their hash."
    (here the part's X-Experience-API-Hash names other data)."""
    attachment = essay()
    posted = with_id({**statement, "attachments": [attachment.object()]})
    wrong = hashlib.sha256(b"other data").hexdigest()

    response = post_multipart(lrs, [posted], [attachment.part(sha2=wrong)])

    assert response.status_code == 400, describe(response)


def test_lrs_must_reject_an_attachment_part_whose_data_does_not_hash_to_its_sha2(lrs, statement):
    """Communication 1.5.2.s1.b4: the LRS "can match the raw data of an Attachment(s) with the
    Attachment header by comparing the SHA-2 of the raw data to the SHA-2 declared in the header.
    It MUST not do so any other way." -- data whose SHA-2 is not the declared one matches
    nothing, so 1.5.2.s3.b5 rejects it."""
    attachment = essay()
    posted = with_id({**statement, "attachments": [attachment.object()]})
    tampered = Attachment(b"here is a tampered attachment").part(sha2=attachment.sha2)

    response = post_multipart(lrs, [posted], [tampered])

    assert response.status_code == 400, describe(response)


def test_lrs_must_reject_attachment_parts_without_the_hash_header(lrs, statement):
    """Communication 1.5.2.s2.b2.b3: a request "MUST include an X-Experience-API-Hash parameter
    in each part's header after the first (Statements) part." """
    attachment = essay()
    posted = with_id({**statement, "attachments": [attachment.object()]})
    part = attachment.part()
    del part.headers["X-Experience-API-Hash"]

    response = post_multipart(lrs, [posted], [part])

    assert response.status_code == 400, describe(response)


def test_lrs_must_reject_a_statement_write_without_a_content_type(lrs, statement):
    """Communication 1.5.1, as ADL's requirement XAPI-00127 states it: "An LRS rejects with
    error code 400 Bad Request, a PUT or POST Request which does not have a "Content-Type"
    header with value "application/json" or "multipart/mixed"." """
    posted = with_id(statement)
    body = json.dumps(posted).encode()

    response = lrs.request("POST", "statements", content=body)
    put = lrs.request("PUT", "statements", params={"statementId": posted["id"]}, content=body)

    assert response.status_code == 400, describe(response)
    assert put.status_code == 400, describe(put)
    assert absent(lrs, posted["id"])


def test_lrs_must_reject_a_part_whose_headers_do_not_match_its_attachment(lrs, statement):
    """Communication 1.5.2.s2.b2.b7 (xAPI 2.0 4.1.3): "Where parameters have a corresponding
    property within the attachment Object, and both the parameter and property are specified for
    a given Attachment, the value of these parameters and properties MUST match." -- a part's
    Content-Type with the attachment's contentType, its Content-Length with its length."""
    attachment = essay()
    posted = with_id({**statement, "attachments": [attachment.object()]})
    other_type = attachment.part()
    other_type.headers["Content-Type"] = "image/png"
    assert post_multipart(lrs, [posted], [other_type]).status_code == 400

    longer = with_id({**statement, "attachments": [{**attachment.object(), "length": 999}]})
    sized = attachment.part()
    sized.headers["Content-Length"] = str(len(attachment.data))
    assert post_multipart(lrs, [longer], [sized]).status_code == 400

    same = attachment.part()
    same.headers["Content-Type"] = "Text/Plain; charset=utf-8"
    same.headers["Content-Length"] = str(len(attachment.data))
    response = post_multipart(lrs, [posted], [same])
    assert response.status_code == 200, describe(response)


def test_lrs_must_reject_a_multipart_request_whose_first_part_is_not_application_json(
    lrs, statement
):
    """Communication 1.5.2.s2.b2.b1: "The first part of the multipart document MUST contain the
    Statements themselves, with type application/json." """
    attachment = essay()
    posted = with_id({**statement, "attachments": [attachment.object()]})

    response = post_multipart(lrs, [posted], [attachment.part()], first_type="text/plain")

    assert response.status_code == 400, describe(response)


def test_lrs_should_accept_multipart_batches_without_attachments(lrs, statement):
    """Communication 1.5.2.s3.b8: "When receiving a PUT or POST with a document type of
    multipart/mixed, an LRS SHOULD* accept batches of Statements which contain no Attachment
    Objects." """
    posted = with_id(statement)

    response = post_multipart(lrs, [posted])

    assert response.status_code == 200, describe(response)


def test_lrs_must_accept_application_json_statements_whose_attachments_have_file_urls(
    lrs, statement
):
    """Communication 1.5.1.s1.b2: "When receiving a PUT or POST with a document type of
    application/json, an LRS MUST accept batches of Statements which contain only Attachment
    Objects with a populated fileUrl." """
    attachment = essay().object() | {"fileUrl": "http://example.com/essays/1.txt"}
    posted = with_id({**statement, "attachments": [attachment]})

    response = lrs.post_statements([posted])

    assert response.status_code == 200, describe(response)
    assert fetch(lrs, posted["id"])["attachments"][0]["fileUrl"] == attachment["fileUrl"]


def test_lrs_must_reject_application_json_statements_with_an_attachment_lacking_file_url(
    lrs, statement
):
    """Communication 1.5.2.s2.b1: a request including Attachments "MUST be of type
    application/json and include a fileUrl for every Attachment" (or be multipart/mixed)."""
    posted = with_id({**statement, "attachments": [essay().object()]})

    response = lrs.post_statements([posted])

    assert response.status_code == 400, describe(response)


def test_lrs_must_reject_an_attachment_object_without_sha2_even_with_a_file_url(lrs, statement):
    """Data 2.4.11.s2.table1.row6: "sha2 | String | The SHA-2 hash of the Attachment data. This
    property is always required, even if fileURL is also specified. | Required" """
    attachment = essay().object() | {"fileUrl": "http://example.com/essays/1.txt"}
    del attachment["sha2"]

    response = lrs.post_statements(with_id({**statement, "attachments": [attachment]}))

    assert response.status_code == 400, describe(response)


def test_lrs_must_reject_an_attachment_whose_usage_type_is_not_an_iri(lrs, statement):
    """Data 2.4.11.s2.table1.row1: "usageType | IRI | ... | Required" with Data 2.2.s4.b1.b4: the
    LRS MUST reject Statements "with any non-format-following key or value ... where a string
    with a particular format (such as mailto IRI, UUID, or IRI) is required." """
    attachment = essay().object() | {
        "usageType": "not an iri",
        "fileUrl": "http://example.com/essays/1.txt",
    }

    response = lrs.post_statements(with_id({**statement, "attachments": [attachment]}))

    assert response.status_code == 400, describe(response)


def test_get_with_attachments_true_must_return_multipart_mixed_with_the_attachment_data(
    lrs, statement
):
    """Communication 2.1.3.s2.b6: "If the "attachment" property of a GET Statement is used and is
    set to true, the LRS MUST use the multipart response format and include all Attachments as
    described in 4.1.11." """
    attachment = essay()
    posted = with_id({**statement, "attachments": [attachment.object()]})
    assert post_multipart(lrs, [posted], [attachment.part()]).status_code == 200
    fetch(lrs, posted["id"])

    response = lrs.get_statements({"statementId": posted["id"], "attachments": True})

    assert response.status_code == 200, describe(response)
    assert media_type(response) == "multipart/mixed"
    first, *rest = parse_multipart(response)
    assert first.headers["content-type"].split(";")[0].strip() == "application/json"
    assert json.loads(first.body)["id"] == posted["id"]
    assert [p.body for p in rest] == [attachment.data]
    assert rest[0].headers["x-experience-api-hash"] == attachment.sha2


def test_query_with_attachments_true_must_return_multipart_mixed_with_the_attachment_data(
    lrs, statement, agent
):
    """Communication 1.5.2.s3.b1: "An LRS MUST include Attachments in the Transmission Format
    described above when requested by the Client" -- for a StatementResult as for one
    Statement."""
    attachment = essay("attached to a query result")
    posted = with_id({**statement, "attachments": [attachment.object()]})
    assert post_multipart(lrs, [posted], [attachment.part()]).status_code == 200
    settle(lrs, posted["id"])

    response = lrs.get_statements({"agent": agent, "attachments": True})

    assert response.status_code == 200, describe(response)
    assert media_type(response) == "multipart/mixed"
    first, *rest = parse_multipart(response)
    assert [s["id"] for s in json.loads(first.body)["statements"]] == [posted["id"]]
    assert [p.body for p in rest] == [attachment.data]


def test_get_with_attachments_false_must_report_application_json_without_raw_data(lrs, statement):
    """Communication 2.1.3.s2.b7: "If the "attachment" property of a GET statement is used and is
    set to false, the LRS MUST NOT include Attachment raw data and MUST report
    application/json." """
    attachment = essay()
    posted = with_id({**statement, "attachments": [attachment.object()]})
    assert post_multipart(lrs, [posted], [attachment.part()]).status_code == 200
    fetch(lrs, posted["id"])

    response = lrs.get_statements({"statementId": posted["id"], "attachments": False})

    assert response.status_code == 200, describe(response)
    assert media_type(response) == "application/json"
    assert response.json()["attachments"][0]["sha2"] == attachment.sha2
    assert attachment.data not in response.content


def test_query_without_attachments_parameter_must_report_application_json(lrs, statement, agent):
    """Communication 2.1.3.s1.table1.row13: "attachments | Boolean | false | ... If false, the LRS
    sends the prescribed response with Content-Type application/json and does not send
    attachment data." (false is the default)."""
    statement_id = store(lrs, statement)[0]
    settle(lrs, statement_id)

    response = lrs.get_statements({"agent": agent})

    assert media_type(response) == "application/json"
    assert query(lrs, {"agent": agent})["statements"][0]["id"] == statement_id
