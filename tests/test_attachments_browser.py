"""The signature pad and a photo on a phone, in Debian's Chromium (see tests/test_browser.py
for the fixtures, the Content-Security-Policy watch and where screenshots go)."""

import io

from django.core.files.storage import default_storage
from PIL import Image
from playwright.sync_api import expect

from engine import clock
from server.files.models import Attachment
from tests.scenario import Case
from tests.test_attachments import picture
from tests.test_browser import chromium, field, pytestmark, shot, site  # noqa: F401

REQUEST = {
    "reporter": "王先生", "phone": "13800000001", "unit": "1-102", "location": "厨房",
    "channel": "phone", "description": "水管爆裂", "area": "in_unit",
    "trade": "water_electric", "fault_kind": "other", "urgency": "urgent",
}  # fmt: skip


def sign(page, selector: str) -> None:
    """Draw a loop and a stroke with the mouse, as a finger would."""
    box = page.locator(selector).bounding_box()
    assert box["width"] >= 300  # the pad spans the phone's width
    x, y = box["x"], box["y"]
    page.mouse.move(x + 30, y + 120)
    page.mouse.down()
    for dx, dy in ((60, -70), (110, -20), (150, -90), (200, -30), (260, -80)):
        page.mouse.move(x + 30 + dx, y + 120 + dy, steps=8)
    page.mouse.up()


def test_a_technician_signs_on_the_pad_attaches_a_photo_and_completes_on_a_phone(site, users):  # noqa: F811
    # Reached through the services as tests/test_browser.py does: dispatch, then arrival.
    case = Case(users, "repair", as_="frontdesk", at=clock.now(), data=REQUEST)
    case.complete("dispatch_urgent", as_="dispatcher",
                  data={"technician": "technician", "requirements": "马上关闭总阀"})  # fmt: skip
    case.complete("arrive", as_="technician", claim=True, data={"arrival_note": "已到场"})
    task = case.task("repair_work")

    phone = site.login("technician", viewport={"width": 390, "height": 844})
    phone.goto(f"{site.url}/tasks/{task.pk}/")
    field(phone, "outcome").select_option("done")
    field(phone, "work_done").fill("更换爆裂水管")
    phone.locator('input[name="after_photos"]').set_input_files(
        [{"name": "after.jpg", "mimeType": "image/jpeg",
          "buffer": picture("JPEG", (2400, 1800))}]
    )  # fmt: skip
    pad = '[data-testid="signature-owner_signature"]'
    expect(phone.locator(pad)).to_be_visible()  # JavaScript shows the pad
    phone.locator(pad).scroll_into_view_if_needed()
    sign(phone, pad)
    drawn = field(phone, "owner_signature.drawn")
    assert drawn.input_value().startswith("data:image/png;base64,")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "signature-pad-phone")

    phone.click("button.primary")
    expect(phone.locator(".messages")).to_contain_text("已完成")
    signature = Attachment.objects.get(instance_id=case.id, field="owner_signature")
    assert signature.personal and signature.media_type == "image/png"
    with default_storage.open(signature.key) as stored:
        image = Image.open(io.BytesIO(stored.read())).convert("L")
    inked = sum(image.histogram()[:128])  # dark pixels
    assert inked > 200, "the strokes drawn are in the stored signature"
    photo = Attachment.objects.get(instance_id=case.id, field="after_photos.0")
    assert photo.name == "after.jpg"

    # The case's record shows the photo as a thumbnail, the signature to its workers too.
    phone.goto(f"{site.url}/cases/{case.id}/")
    expect(phone.locator(f'img.thumb[src="/files/{photo.pk}/"]')).to_be_visible()
    thumbs = phone.locator("img.thumb")  # loading="lazy": each loads once scrolled to
    for i in range(thumbs.count()):
        thumbs.nth(i).scroll_into_view_if_needed()
    phone.wait_for_function(
        "[...document.querySelectorAll('img.thumb')].every(i => i.complete && i.naturalWidth > 0)"
    )  # the files load under the Content-Security-Policy
    shot(phone, "case-files-phone")
