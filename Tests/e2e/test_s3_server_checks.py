"""The S3 store the tests use (s3_server.py, SeaweedFS) really checks AWS Signature V4: a
presigned URL that is tampered with, signed with the wrong secret, expired, or used with a body
its signed headers do not allow is refused, and so is a header-signed request with the wrong
secret or none. If any of these passes, the tests that rely on the store to refuse such
requests prove nothing: this file fails first.

Signatures come from botocore (boto3's signer), as a real AWS client makes them.
"""
import datetime
import urllib.parse
from unittest import mock

import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

import s3_server

PORT = 18660
BUCKET = "parley-s3-checks"
ORIGIN = "http://127.0.0.1:18080"


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = s3_server.start(PORT, str(tmp_path_factory.mktemp("s3")), BUCKET, name="s3-checks")
    yield server
    server.stop()


def presign(s3, method, key, secret_key=None, expires=60, **params):
    operation = {"PUT": "put_object", "GET": "get_object", "HEAD": "head_object", "DELETE": "delete_object"}[method]
    return s3.client(secret_key=secret_key).generate_presigned_url(
        operation, Params={"Bucket": BUCKET, "Key": key, **params}, ExpiresIn=expires)


def header_signed(s3, method, key, secret_key, data=b""):
    """A request signed in its Authorization header, as boto3 signs it."""
    request = AWSRequest(method=method, url=f"{s3.endpoint}/{BUCKET}/{key}", data=data)
    S3SigV4Auth(Credentials(s3.access_key, secret_key), "s3", s3.region).add_auth(request)
    prepared = request.prepare()
    return requests.request(method, prepared.url, headers=dict(prepared.headers), data=data, timeout=10)


def with_query(url, **changes):
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, quote_via=urllib.parse.quote)))


def error_code(response):
    return response.text.split("<Code>", 1)[-1].split("</Code>", 1)[0] if "<Code>" in response.text else ""


def test_presigned_put_then_get_works(s3):
    url = presign(s3, "PUT", "ok/hello.txt")
    assert urllib.parse.urlsplit(url).path == f"/{BUCKET}/ok/hello.txt"  # path-style
    assert "X-Amz-Signature=" in url and "X-Amz-Credential=" in url
    put = requests.put(url, data=b"hello", timeout=10)
    assert put.status_code == 200, put.text
    assert put.headers.get("ETag")
    get = requests.get(presign(s3, "GET", "ok/hello.txt"), timeout=10)
    assert get.status_code == 200, get.text
    assert get.content == b"hello"
    head = requests.head(presign(s3, "HEAD", "ok/hello.txt"), timeout=10)
    assert head.status_code == 200 and head.headers.get("Content-Length") == "5"


def test_presigned_url_with_one_signature_character_changed_is_refused(s3):
    requests.put(presign(s3, "PUT", "tamper.txt"), data=b"secret", timeout=10).raise_for_status()
    url = presign(s3, "GET", "tamper.txt")
    signature = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))["X-Amz-Signature"]
    changed = signature[:10] + ("0" if signature[10] != "0" else "1") + signature[11:]
    response = requests.get(with_query(url, **{"X-Amz-Signature": changed}), timeout=10)
    assert response.status_code == 403, response.text
    assert error_code(response) == "SignatureDoesNotMatch"
    assert b"secret" not in response.content
    put = requests.put(with_query(presign(s3, "PUT", "tamper.txt"), **{"X-Amz-Signature": changed}),
                       data=b"overwritten", timeout=10)
    assert put.status_code == 403, put.text
    assert requests.get(presign(s3, "GET", "tamper.txt"), timeout=10).content == b"secret"


def test_presigned_url_for_another_key_is_refused(s3):
    url = presign(s3, "GET", "tamper.txt").replace("/tamper.txt?", "/other.txt?")
    assert requests.get(url, timeout=10).status_code == 403


def test_presigned_url_signed_with_the_wrong_secret_is_refused(s3):
    requests.put(presign(s3, "PUT", "wrong-secret.txt"), data=b"x", timeout=10).raise_for_status()
    for method in ("GET", "PUT"):
        url = presign(s3, method, "wrong-secret.txt", secret_key=s3.secret_key + "x")
        response = requests.request(method, url, data=b"y" if method == "PUT" else None, timeout=10)
        assert response.status_code == 403, (method, response.text)
        assert error_code(response) == "SignatureDoesNotMatch"


def test_presigned_url_with_an_unknown_access_key_is_refused(s3):
    url = s3.client(access_key="AKIAIOSFODNN7EXAMPLE").generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "wrong-secret.txt"}, ExpiresIn=60)
    response = requests.get(url, timeout=10)
    assert response.status_code == 403 and error_code(response) == "InvalidAccessKeyId", response.text


def test_expired_presigned_url_is_refused(s3):
    import time
    requests.put(presign(s3, "PUT", "expiring.txt"), data=b"x", timeout=10).raise_for_status()
    url = presign(s3, "GET", "expiring.txt", expires=1)
    time.sleep(2.1)
    response = requests.get(url, timeout=10)
    assert response.status_code == 403, response.text
    assert "expired" in response.text


def test_presigned_url_dated_in_the_past_is_refused(s3):
    # Signed correctly, but an hour ago for 60 s: no sleeping, and no clock-skew tolerance helps.
    an_hour_ago = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(hours=1)
    with mock.patch("botocore.auth.get_current_datetime", return_value=an_hour_ago):
        url = presign(s3, "GET", "expiring.txt", expires=60)
    assert an_hour_ago.strftime("X-Amz-Date=%Y%m%dT%H") in url
    response = requests.get(url, timeout=10)
    assert response.status_code == 403 and "expired" in response.text, response.text


def test_presigned_put_enforces_signed_content_length_and_type(s3):
    url = presign(s3, "PUT", "sized.png", ContentLength=5, ContentType="image/png")
    signed = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))["X-Amz-SignedHeaders"]
    assert signed.split(";") == ["content-length", "content-type", "host"]
    longer = requests.put(url, data=b"hello world", headers={"Content-Type": "image/png"}, timeout=10)
    assert longer.status_code == 403, longer.text
    other_type = requests.put(url, data=b"hello", headers={"Content-Type": "text/html"}, timeout=10)
    assert other_type.status_code == 403, other_type.text
    missing_type = requests.put(url, data=b"hello", timeout=10)
    assert missing_type.status_code == 403, missing_type.text
    exact = requests.put(url, data=b"hello", headers={"Content-Type": "image/png"}, timeout=10)
    assert exact.status_code == 200, exact.text
    head = s3.client().head_object(Bucket=BUCKET, Key="sized.png")
    assert head["ContentLength"] == 5 and head["ContentType"] == "image/png"


def test_header_signed_requests_with_the_wrong_secret_are_refused(s3):
    s3.client().put_object(Bucket=BUCKET, Key="keep.txt", Body=b"keep")
    wrong = s3.secret_key + "x"
    head = header_signed(s3, "HEAD", "keep.txt", wrong)
    assert head.status_code == 403
    delete = header_signed(s3, "DELETE", "keep.txt", wrong)
    assert delete.status_code == 403 and error_code(delete) == "SignatureDoesNotMatch", delete.text
    put = header_signed(s3, "PUT", "keep.txt", wrong, data=b"overwritten")
    assert put.status_code == 403, put.text
    with pytest.raises(ClientError) as refused:
        s3.client(secret_key=wrong).delete_object(Bucket=BUCKET, Key="keep.txt")
    assert refused.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    # Still there, unchanged; and the right secret works the same way.
    assert s3.client().get_object(Bucket=BUCKET, Key="keep.txt")["Body"].read() == b"keep"
    ok_head = header_signed(s3, "HEAD", "keep.txt", s3.secret_key)
    assert ok_head.status_code == 200 and ok_head.headers.get("Content-Length") == "4"
    assert header_signed(s3, "DELETE", "keep.txt", s3.secret_key).status_code == 204
    assert header_signed(s3, "HEAD", "keep.txt", s3.secret_key).status_code == 404


def test_unsigned_requests_are_refused(s3):
    s3.client().put_object(Bucket=BUCKET, Key="private.txt", Body=b"private")
    for method in ("GET", "HEAD", "DELETE", "PUT"):
        response = requests.request(method, f"{s3.endpoint}/{BUCKET}/private.txt", timeout=10)
        assert response.status_code == 403, (method, response.text)
    assert requests.get(f"{s3.endpoint}/{BUCKET}?list-type=2", timeout=10).status_code == 403
    assert s3.client().get_object(Bucket=BUCKET, Key="private.txt")["Body"].read() == b"private"


def test_cors_preflight_allows_browser_put_and_get(s3):
    preflight = requests.options(f"{s3.endpoint}/{BUCKET}/uploads/photo.png", timeout=10, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN)
    assert "PUT" in preflight.headers.get("Access-Control-Allow-Methods", "")
    assert "content-type" in preflight.headers.get("Access-Control-Allow-Headers", "").lower()
    # The actual cross-origin requests carry the CORS headers too, ETag exposed.
    put = requests.put(presign(s3, "PUT", "uploads/photo.png"), data=b"png", headers={"Origin": ORIGIN}, timeout=10)
    assert put.status_code == 200
    assert put.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN)
    assert "etag" in put.headers.get("Access-Control-Expose-Headers", "").lower()
    get = requests.get(presign(s3, "GET", "uploads/photo.png"), headers={"Origin": ORIGIN}, timeout=10)
    assert get.status_code == 200 and get.headers.get("Access-Control-Allow-Origin") in ("*", ORIGIN)
