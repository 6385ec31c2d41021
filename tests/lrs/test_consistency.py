"""X-Experience-API-Consistent-Through goes on whatever the Statements URL answers."""

from __future__ import annotations


def test_a_refusal_for_an_empty_version_header_carries_consistent_through(make_client):
    client = make_client()
    response = client.get("/xapi/statements", headers={"X-Experience-API-Version": ""})
    assert response.status_code == 400
    assert "x-experience-api-consistent-through" in response.headers


def test_a_mistyped_statements_url_still_carries_consistent_through(client):
    """A query whose `?` went missing (`/xapi/statementsverb=...`) is a 404, but a client
    waiting for consistency reads the header off it all the same."""
    response = client.get("/xapi/statementsverb=http://example.com/verb")
    assert response.status_code == 404
    assert "x-experience-api-consistent-through" in response.headers


def test_other_resources_do_not_carry_consistent_through(client):
    response = client.get("/xapi/about")
    assert "x-experience-api-consistent-through" not in response.headers
