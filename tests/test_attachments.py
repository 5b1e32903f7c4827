"""Attachments: a form's files are stored as files and the case keeps references to them.

Through the API (data URLs in JSON, as clients send them) and the pages (multipart), on
PostgreSQL and the local-disk storage the tests' settings point at a temporary folder.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import io
import json
import os
import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.storage import default_storage
from PIL import Image

from server.files import services as files
from server.files.models import Attachment
from server.flows.cases import step
from server.flows.models import AuditEvent, HumanTask
from tests.conftest import make_units
from tests.scenario import Case, deploy_all, local
from tests.test_process_repair import REQUEST, dispatch

pytestmark = pytest.mark.postgres


def picture(fmt: str = "PNG", size=(40, 20), *, noise: bool = False, exif=None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    if noise:  # noise does not compress: a photo's weight
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, fmt, **({"exif": exif} if exif else {}))
    return out.getvalue()


def as_url(content: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(content).decode()}"


SIGNATURE = as_url(picture())


@pytest.fixture
def at_work(db, users, api):
    """A repair case whose technician step (``repair_work``) is open, and a way to
    complete it through the API."""
    deploy_all()
    make_units("1-101")
    case = Case(users, "repair", as_="frontdesk", data=REQUEST, at=local("2026-11-23 09:00"))
    dispatch(case, "2026-11-23T14:00:00+08:00")
    case.complete("arrive", as_="technician", claim=True)

    def complete(data: dict, *, language: str = "en"):
        task = case.task("repair_work")
        client = api("technician")
        return client.post(
            f"/api/tasks/{task.pk}/complete/", {"data": data}, format="json",
            HTTP_ACCEPT_LANGUAGE=language,
        )  # fmt: skip

    case.complete_api = complete
    return case


def done(**files_) -> dict:
    return {"outcome": "done", "work_done": "更换阀芯", "owner_signature": SIGNATURE, **files_}


def test_a_file_of_another_type_is_refused_naming_its_field(at_work):
    html = as_url(b"<html><script>alert(1)</script></html>", "text/html")
    svg = as_url(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "image/svg+xml")
    answer = at_work.complete_api(done(after_photos=[as_url(picture()), html, svg]))
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert set(errors) == {"after_photos.1", "after_photos.2"}
    assert errors["after_photos.1"] == ["Must be an image (PNG, JPEG, GIF, WebP) or a PDF."]

    # A PNG's first bytes on something that is no picture: read, found wanting, refused.
    fake = as_url(b"\x89PNG\r\n\x1a\n" + b"not a picture" * 10)
    answer = at_work.complete_api(done(after_photos=[fake]), language="zh-hans")
    assert answer.json()["errors"] == {"after_photos.0": ["文件无法按其声明的图片类型读取。"]}
    assert not Attachment.objects.exists() and at_work.task("repair_work")  # nothing kept


def test_an_oversize_file_is_refused_naming_its_field(at_work, settings):
    big = as_url(b"%PDF-1.4\n" + b"0" * 3_800_000, "application/pdf")  # past the form's 3.75 MB
    answer = at_work.complete_api(done(after_photos=[big]))
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"after_photos.0": ["The file is larger than 3.8 MB."]}

    # Past what is read at all (before scaling): not stored, and the field says so.
    settings.PROPFLOW_UPLOAD_MAX_BYTES = 1_000
    answer = at_work.complete_api(done(after_photos=[as_url(picture(noise=True))]))
    assert answer.json()["errors"] == {"after_photos.0": ["The file is larger than 0.001 MB."]}
    assert Attachment.objects.count() == 0


def test_photos_are_scaled_upright_without_their_metadata(at_work):
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: the picture must be turned back
    exif[0x010F] = "PhoneMaker"
    photo = picture("JPEG", (3200, 1200), exif=exif.tobytes())
    assert at_work.complete_api(done(after_photos=[as_url(photo, "image/jpeg")])).status_code == 200

    kept = Attachment.objects.get(field="after_photos.0")
    with default_storage.open(kept.key) as stored:
        image = Image.open(io.BytesIO(stored.read()))
    assert image.size == (600, 1600)  # turned upright, longest side 1600
    assert not image.getexif() and kept.media_type == "image/jpeg"
    assert kept.size < len(photo)


def test_a_file_is_served_to_the_case_s_workers_and_404_to_others(at_work, api, users, client):
    assert at_work.complete_api(done(after_photos=[as_url(picture())])).status_code == 200
    work = at_work.events("task_completed")[-1].data["data"]
    photo, signature = work["after_photos"][0], work["owner_signature"]
    assert set(photo) == {"file", "name", "type", "size", "sha256"}

    served = api("technician").get(f"/api/files/{photo['file']}/")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    body = b"".join(served.streaming_content)
    assert len(body) == photo["size"] and hashlib.sha256(body).hexdigest() == photo["sha256"]
    assert served["Content-Security-Policy"] == "sandbox"

    missing = api("nobody").get(f"/api/files/{uuid.uuid4()}/")
    assert missing.status_code == 404
    for who, ref in (("nobody", photo), ("finance", photo), ("cs_supervisor", signature)):
        answer = api(who).get(f"/api/files/{ref['file']}/")
        assert (answer.status_code, answer.json()) == (404, missing.json()), who
    # A supervisor sees the case, so its photos, but not the owner's signature.
    assert api("cs_supervisor").get(f"/api/files/{photo['file']}/").status_code == 200
    assert api("nobody").get("/api/files/not-an-id/").status_code == 404

    # The pages: the same rule, a 404 page for others.
    client.force_login(users["technician"])
    assert client.get(f"/files/{signature['file']}/").status_code == 200
    client.force_login(users["finance"])
    assert client.get(f"/files/{signature['file']}/").status_code == 404


def test_the_events_of_a_case_with_ten_photos_stay_small(at_work, api):
    photos = [as_url(picture("JPEG", (1000, 1000), noise=True), "image/jpeg") for _ in range(10)]
    assert sum(map(len, photos)) > 3_000_000
    assert at_work.complete_api(done(after_photos=photos)).status_code == 200

    events = api("technician").get(f"/api/instances/{at_work.id}/events/")
    assert events.status_code == 200
    assert len(events.content) < 20_000  # references, not bytes
    assert Attachment.objects.filter(instance_id=at_work.id).count() == 11
    assert len(at_work.refresh().state) < 50_000  # the engine's state too
    assert at_work.data["after_photos"][9]["type"] == "image/jpeg"


def test_a_file_sent_to_a_step_that_fails_leaves_no_row_and_is_swept(at_work):
    photo = as_url(picture(size=(30, 30)))
    answer = at_work.complete_api({"outcome": "done", "after_photos": [photo]})  # no work_done
    assert answer.status_code == 400 and not Attachment.objects.exists()
    orphan = files.store(files.images.normalise(picture(size=(30, 30)), "image/png"), "image/png")
    assert default_storage.exists(orphan.key)
    assert at_work.complete_api(done()).status_code == 200
    kept = Attachment.objects.get().key

    assert orphan.key not in files.sweep()  # a day's grace: a step may be storing right now
    assert orphan.key in files.sweep(older_than=timedelta(0))
    assert default_storage.exists(kept) and not default_storage.exists(orphan.key)


# The migration ran once, before the audit chain existed (flows 0017 sealed what it left);
# run again here over chained events, its rewrite is the change the chain is there to show.
@pytest.mark.audit_tampered
def test_the_migration_turns_an_old_case_s_data_urls_into_files(at_work, monkeypatch, api):
    # The case as the code before attachments kept it: the data URLs in the state and events.
    monkeypatch.setattr(step.Step, "attach", lambda self, source, form, data, prepared: data)
    old_photo = as_url(picture(size=(20, 20)))
    assert at_work.complete_api(done(after_photos=[old_photo])).status_code == 200
    monkeypatch.undo()
    assert "data:image/png" in at_work.refresh().engine_state
    old = at_work.events("task_completed")[-1].data["data"]["after_photos"][0]
    assert not Attachment.objects.exists()

    migration = importlib.import_module("server.files.migrations.0002_data_urls_to_files")
    migration.forwards(apps, None)

    instance = at_work.refresh()
    assert "data:image" not in instance.engine_state
    event = AuditEvent.objects.filter(instance=instance, kind="task_completed").last()
    assert "data:image" not in json.dumps(event.data)
    photo = event.data["data"]["after_photos"][0]
    signature = event.data["data"]["owner_signature"]
    assert at_work.data["after_photos"][0] == photo  # one row for the state and the event
    assert Attachment.objects.get(pk=signature["file"]).personal
    assert not Attachment.objects.get(pk=photo["file"]).personal
    served = api("technician").get(f"/api/files/{photo['file']}/")
    assert b"".join(served.streaming_content) == base64.b64decode(old.split(",")[1])
    assert HumanTask.objects.filter(instance=instance, bpmn_id="return_visit").exists()


def test_the_task_page_takes_uploads_as_files_and_names_the_field_it_refuses(
    at_work, users, client, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    task = at_work.task("repair_work")
    client.force_login(users["technician"])
    page = f"/tasks/{task.pk}/"
    form = {"outcome": "done", "work_done": "更换阀芯"}
    # Without JavaScript the pad stays hidden and the signature is a file like the others.
    blank = client.get(page).content.decode()
    assert '<div class="signature" data-signature hidden>' in blank
    assert '<input type="file" name="owner_signature"' in blank
    html = SimpleUploadedFile("x.html", b"<html><script></script></html>", "text/html")
    answer = client.post(page, {**form, "after_photos": [html]}, HTTP_ACCEPT_LANGUAGE="en")
    assert 'id="e-after_photos"' in answer.content.decode()
    assert "Must be an image (PNG, JPEG, GIF, WebP) or a PDF." in answer.content.decode()

    settings.PROPFLOW_UPLOAD_MAX_BYTES = 1_000
    big = SimpleUploadedFile("big.png", picture(noise=True), "image/png")
    answer = client.post(page, {**form, "after_photos": [big]}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "big.png 超过" in answer.content.decode()
    settings.PROPFLOW_UPLOAD_MAX_BYTES = 20_000_000

    photo = SimpleUploadedFile("现场.jpg", picture("JPEG", (2000, 1000)), "image/jpeg")
    sign = SimpleUploadedFile("sign.png", picture(), "image/png")
    answer = client.post(page, {**form, "after_photos": [photo], "owner_signature": sign})
    assert answer.status_code == 302
    kept = Attachment.objects.get(field="after_photos.0")
    assert (kept.name, kept.media_type) == ("现场.jpg", "image/jpeg")
    with default_storage.open(kept.key) as stored:
        assert Image.open(stored).size == (1600, 800)

    # The case page shows the photo as a thumbnail linked to the file.
    case_page = client.get(f"/cases/{at_work.id}/").content.decode()
    assert f'<img class="thumb" src="/files/{kept.pk}/"' in case_page


def test_s3_storage_is_chosen_by_the_environment_alone(monkeypatch):
    from django.utils.module_loading import import_string

    from server import settings as site

    assert site._attachment_storage()["BACKEND"].endswith("FileSystemStorage")
    monkeypatch.setenv("PROPFLOW_S3_BUCKET", "propflow-files")
    monkeypatch.setenv("PROPFLOW_S3_ENDPOINT_URL", "https://minio.internal:9000")
    monkeypatch.setenv("PROPFLOW_S3_REGION", "cn-east-1")
    config = site._attachment_storage()
    storage = import_string(config["BACKEND"])(**config["OPTIONS"])  # no request made
    assert (storage.bucket_name, storage.endpoint_url, storage.region_name) == (
        "propflow-files", "https://minio.internal:9000", "cn-east-1",
    )  # fmt: skip
    assert (storage.location, storage.default_acl) == ("attachments", "private")
