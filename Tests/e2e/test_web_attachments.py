"""File attachments in the web client (issue 15 item 5), driven through its UI in headless Chromium.

Two people in two browsers share a conversation. A picture pasted by one (a synthetic paste
event carrying a PNG made in the page, since headless Chromium has no clipboard) shows inline for
the other as a thumbnail made in the browser, within the thumbnail box and with its space kept
from the reported size, and opens large in a viewer; a text file chosen with the attach button
downloads for the other with the same bytes; a drop on the conversation adds a file; a file over
the server's ATTACHMENT_MAX_BYTES shows the server's refusal with Retry and Remove and nothing is
sent; an upload cancelled while under way (the network throttled by DevTools) leaves nothing
behind; an eleventh file is refused with a word; and axe-core finds nothing serious on a page
showing all of it. A message of files alone previews as its files in the conversation list and in
a desktop notification ("📎 notes.txt", "📎 3 files").

With S3 storage (a real S3-compatible store, SeaweedFS, from s3_server.py, which checks every
signature) the same page uploads straight to the store (a cross-origin PUT to a presigned URL,
with progress, so a CORS preflight) and downloads by asking Parley where the bytes are
(`Accept: application/json`, answered with a presigned GET) and fetching them from the store
without the access token or cookies, the store's origin allowed by the page's CSP. With local
storage the same question is answered with Parley's own address, fetched with the token.

The server runs the installed binary, which cannot see web/, so the client under test is a copy
of web/ made outside the checkout and named by WEB_ROOT.
"""
import os
import shutil
import tempfile
import time
import urllib.request
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import s3_server
import web_people
from parley_server import ROOT, Server
from web_browser import FAKE_NOTIFICATIONS, opened_browsers, run_axe, significant_errors
from web_people import log_in, open_conversation, tag

PORT = 18441
S3_PARLEY_PORT = 18442
S3_PORT = 18445
S3_BUCKET = "parley-web-attachments"
MAX_BYTES = 200_000
THUMB_MAX = 360


@pytest.fixture(scope="module")
def work():
    folder = tempfile.mkdtemp(prefix="parley-web-attachments-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server(work):
    web = os.path.join(work, "web")
    shutil.copytree(os.path.join(ROOT, "web"), web)
    running = Server("web-attachments", PORT, {"RTC_PUBLIC_IP": "127.0.0.1", "LOG_LEVEL": "info", "RATE_MESSAGES": "off",
                                               "ATTACHMENT_MAX_BYTES": str(MAX_BYTES), "WEB_ROOT": web})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def s3store(work):
    # Started here, on the test process's main thread (the store ends with the thread that started it).
    store = s3_server.start(S3_PORT, os.path.join(work, "s3"), S3_BUCKET, name="web-attachments")
    yield store
    store.stop()


@pytest.fixture(scope="module")
def s3_server_parley(work, s3store):
    """A Parley server keeping its files in the S3 store (its own copy of web/)."""
    web = os.path.join(work, "web-s3")
    shutil.copytree(os.path.join(ROOT, "web"), web)
    running = Server("web-attachments-on-s3", S3_PARLEY_PORT, {
        "RTC_PUBLIC_IP": "127.0.0.1", "LOG_LEVEL": "info", "RATE_MESSAGES": "off", "WEB_ROOT": web,
        "ATTACHMENT_MAX_BYTES": str(MAX_BYTES),
        "STORAGE_URL": f"s3://{s3store.bucket}?endpoint={s3store.endpoint}&region={s3store.region}",
        "S3_ACCESS_KEY_ID": s3store.access_key, "S3_SECRET_ACCESS_KEY": s3store.secret_key})
    yield running
    running.stop()


@pytest.fixture
def browsers(request):
    yield from opened_browsers(request, "web-attachments")


# MARK: helpers

class Person(web_people.Person):
    """An account, with the messages (and their attachments) the server holds, read over REST."""

    def messages(self, conversation):
        return self.call("GET", f"/conversations/{conversation}/messages?limit=50")["messages"]


def pair(server, browsers, names=None):
    """Ada and Bob in a DM, each in a browser with it open (`names`: their display names, unique
    ones by default)."""
    t = tag()
    ada, bob = (Person(server, name) for name in (names or (f"Ada{t}", f"Bob{t}")))
    conversation = ada.dm(bob)
    a, b = browsers("Ada"), browsers("Bob")
    for browser, person, other in ((a, ada, bob), (b, bob, ada)):
        log_in(browser, server, person)
        open_conversation(browser, other.name)
    return ada, bob, conversation, a, b


def tray(browser):
    """The files waiting in the open conversation's tray: [{name, state, detail}]."""
    return browser.driver.execute_script("""
      return [...document.querySelectorAll('#attachment-tray li.tray-item')].map((li) => ({
        name: li.dataset.name, state: li.className.replace('tray-item', '').trim(),
        detail: li.querySelector('.tray-detail').textContent}));""")


def wait_tray(browser, description, predicate, timeout=15):
    return browser.wait(description, lambda: predicate(tray(browser)), timeout=timeout, detail=lambda: f"tray {tray(browser)}")


def choose_files(browser, *paths):
    """Files picked as with the attach button's dialog (Selenium sets the hidden input's files)."""
    browser.driver.find_element(By.ID, "attach-input").send_keys("\n".join(paths))


def write_file(folder, name, data):
    path = os.path.join(folder, name)
    with open(path, "wb") as out:
        out.write(data)
    return path


# A PNG drawn in the page, pasted into the message box as a screenshot would be.
PASTE_PNG = """
const [width, height, name, done] = arguments;
const canvas = document.createElement('canvas');
canvas.width = width; canvas.height = height;
const g = canvas.getContext('2d');
// Flat colours: a small PNG, well under the server's ATTACHMENT_MAX_BYTES here.
g.fillStyle = '#2357d9'; g.fillRect(0, 0, width, height);
g.fillStyle = '#ff9f1c'; g.fillRect(width / 4, height / 4, width / 2, height / 2);
canvas.toBlob((blob) => {
  const data = new DataTransfer();
  data.items.add(new File([blob], name, {type: 'image/png'}));
  const input = document.getElementById('composer-input');
  input.focus();
  const event = new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true});
  input.dispatchEvent(event);
  done({prevented: event.defaultPrevented, size: blob.size});
}, 'image/png');
"""

# Keeps every Blob made into a blob: URL, and the link a download clicks, so the test can read
# the bytes a person would have saved (the page's CSP allows no fetch of blob: URLs).
CATCH_DOWNLOADS = """
window.blobsByUrl = new Map();
const create = URL.createObjectURL.bind(URL);
URL.createObjectURL = (blob) => { const url = create(blob); window.blobsByUrl.set(url, blob); return url; };
window.downloads = [];
const click = HTMLAnchorElement.prototype.click;
HTMLAnchorElement.prototype.click = function () {
  if (this.hasAttribute('download')) { window.downloads.push({href: this.href, name: this.download}); return; }
  return click.call(this);
};
"""

READ_DOWNLOAD = """
const done = arguments[arguments.length - 1];
const last = window.downloads[window.downloads.length - 1];
const blob = window.blobsByUrl.get(last.href);
blob.text().then((text) => done({name: last.name, text, size: blob.size}));
"""


# Records the page's uploads (XMLHttpRequest: where to, its upload progress events, the answer)
# and its downloads of attachments (every fetch of an /attachments/ address or of another origin:
# the address asked for, whether it carried an Authorization header, its Accept, credentials and
# redirect modes, the address answering after redirects and the answer's type, or the error).
NETWORK_LOG = """
window.xhrLog = [];
const open = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (method, url, ...rest) {
  this.logEntry = {method, url: String(url), progress: 0, loaded: null, total: null, status: null};
  window.xhrLog.push(this.logEntry);
  return open.call(this, method, url, ...rest);
};
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (body) {
  const entry = this.logEntry;
  this.upload.addEventListener('progress', (e) => {
    if (e.lengthComputable) { entry.progress += 1; entry.loaded = e.loaded; entry.total = e.total; }
  });
  this.addEventListener('loadend', () => { entry.status = this.status; });
  return send.call(this, body);
};
window.fetchLog = [];
const fetch = window.fetch.bind(window);
window.fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input), location.href);
  if (!url.pathname.includes('/attachments/') && url.origin === location.origin) return fetch(input, init);
  const headers = new Headers(input instanceof Request ? input.headers : undefined);
  new Headers(init?.headers ?? {}).forEach((value, name) => headers.set(name, value));
  const entry = {
    url: url.href, authorization: headers.has('Authorization'), accept: headers.get('Accept'),
    credentials: init?.credentials ?? (input instanceof Request ? input.credentials : 'same-origin'),
    redirect: init?.redirect ?? (input instanceof Request ? input.redirect : 'follow'),
    finalUrl: null, redirected: null, status: null, type: null, contentType: null, error: null};
  window.fetchLog.push(entry);
  try {
    const response = await fetch(input, init);
    Object.assign(entry, {finalUrl: response.url, redirected: response.redirected, status: response.status,
                          type: response.type, contentType: response.headers.get('Content-Type')});
    return response;
  } catch (error) {
    entry.error = String(error);
    throw error;
  }
};
"""


def thumbnails(browser):
    return browser.driver.execute_script("""
      return [...document.querySelectorAll('#message-list img.attachment-thumb')].map((img) => ({
        src: img.getAttribute('src') || '', complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
        width: img.getBoundingClientRect().width, height: img.getBoundingClientRect().height,
        attrWidth: img.width, attrHeight: img.height, dpr: devicePixelRatio, alt: img.alt}));""")


# MARK: pictures

def test_pasted_picture_shows_inline_for_the_other_and_opens_large(server, browsers):
    ada, bob, conversation, a, b = pair(server, browsers)

    pasted = a.driver.execute_async_script(PASTE_PNG, 800, 600, "image.png")
    assert pasted["prevented"], "the paste of a picture was left to the text box"
    wait_tray(a, "the pasted picture to upload", lambda items: len(items) == 1 and items[0]["state"] == "done")
    assert a.js("document.querySelector('#attachment-tray img') !== null"), "no preview of the picture in the tray"
    a.fill("Message", "look at this")
    a.control("Message").send_keys(Keys.ENTER)
    wait_tray(a, "the tray to empty after sending", lambda items: items == [])

    # Bob: the picture inline, as a thumbnail made in his browser, inside the thumbnail box.
    def shown():
        found = [t for t in thumbnails(b) if t["src"].startswith("blob:") and t["complete"] and t["naturalWidth"] > 0]
        return found[0] if found else None
    thumb = b.wait("the picture inline", shown, timeout=20, detail=lambda: str(thumbnails(b)))
    assert thumb["width"] <= THUMB_MAX and thumb["height"] <= THUMB_MAX, thumb
    assert thumb["naturalWidth"] <= THUMB_MAX * max(1, thumb["dpr"]), f"the thumbnail is not downscaled: {thumb}"
    assert (thumb["attrWidth"], thumb["attrHeight"]) == (360, 270), f"space not kept from the reported 800x600: {thumb}"
    assert thumb["alt"].startswith("Pasted image") and thumb["alt"].endswith(".png"), thumb
    assert "look at this" in b.message_texts()

    # The server holds what the page read from the picture.
    message = ada.messages(conversation)[-1]
    assert message["content"] == "look at this"
    assert len(message["attachments"]) == 1
    attachment = message["attachments"][0]
    assert (attachment["width"], attachment["height"], attachment["contentType"]) == (800, 600, "image/png"), attachment

    # Ada sees her own picture (from her copy) once the server confirmed the message.
    a.wait("Ada's own picture", lambda: any(t["src"].startswith("blob:") and t["naturalWidth"] > 0 for t in thumbnails(a)))
    a.wait("the message confirmed", lambda: a.js("document.querySelector('#message-list li.message.pending') === null"))

    # Opened large: the whole picture, a Download link, closed by Esc with focus back on it.
    opener = b.control(f"View image {attachment['name']}", exact=False)
    b.driver.execute_script("document.querySelector('#message-list li.message:last-child').focus()")
    opener.click()
    b.wait("the viewer", lambda: b.js("document.getElementById('image-viewer').open"))
    b.wait("the full picture", lambda: b.js("document.getElementById('image-viewer-image').naturalWidth") == 800)
    b.screenshot("viewer")
    download = b.control(f"Download {attachment['name']}", exact=False)
    assert download.get_attribute("download") == attachment["name"]
    assert download.get_attribute("href").startswith("blob:")
    b.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    b.wait("the viewer to close", lambda: not b.js("document.getElementById('image-viewer').open"))
    assert b.js("document.activeElement.classList.contains('attachment-image')"), "focus did not return to the picture"

    # Another conversation opened: the picture's blob: URLs are revoked, not left to leak.
    b.driver.execute_script("""
      window.revoked = [];
      const revoke = URL.revokeObjectURL.bind(URL);
      URL.revokeObjectURL = (url) => { window.revoked.push(url); revoke(url); };""")
    bob.group(f"Other{tag()}", ada)
    other = b.control("Other", exact=False, timeout=10)
    other.click()
    b.wait("the thumbnail's URL revoked", lambda: thumb["src"] in b.js("window.revoked"))
    for browser in (a, b):
        assert not significant_errors(browser.page_errors()), browser.page_errors()


# MARK: files

def test_file_from_the_attach_button_downloads_with_its_bytes_and_page_passes_axe(server, browsers, work):
    ada, bob, conversation, a, b = pair(server, browsers)
    content = f"hello attachments {uuid.uuid4().hex}\n<b>not markup</b>\n"
    path = write_file(work, f"notes-{tag()}.txt", content.encode())
    name = os.path.basename(path)

    a.control("Attach files")  # the button is there, named
    choose_files(a, path)
    wait_tray(a, "the file to upload", lambda items: len(items) == 1 and items[0]["state"] == "done")
    # Files alone make a message: Enter in the empty box sends them.
    a.control("Message").send_keys(Keys.ENTER)
    wait_tray(a, "the tray to empty", lambda items: items == [])

    card = b.wait("the file card", lambda: b.driver.find_elements(By.CSS_SELECTOR, "#message-list .file-card"), timeout=15)[0]
    assert card.find_element(By.CSS_SELECTOR, ".file-name").text == name
    assert card.find_element(By.CSS_SELECTOR, ".file-size").text == f"{len(content.encode())} B"
    assert b.js("document.querySelector('#message-list .file-card b')") is None, "the file name became markup"
    b.driver.execute_script(CATCH_DOWNLOADS)
    b.driver.execute_script(NETWORK_LOG)
    b.driver.execute_script("document.querySelector('#message-list li.message:last-child').focus()")
    b.click(f"Download {name}", exact=False)
    b.wait("the download", lambda: b.js("window.downloads.length") == 1)
    saved = b.driver.execute_async_script(READ_DOWNLOAD)
    assert saved == {"name": name, "text": content, "size": len(content.encode())}, saved
    # Local storage: Parley, asked where the bytes are, names its own address; both calls carry the token.
    address = server.url + "/attachments/" + ada.messages(conversation)[-1]["attachments"][0]["id"]
    fetches = b.js("window.fetchLog")
    assert [(f["url"], f["accept"], f["authorization"], f["status"], f["redirected"]) for f in fetches] == [
        (address, "application/json", True, 200, False), (address, None, True, 200, False)], fetches
    assert fetches[0]["contentType"].startswith("application/json"), fetches
    assert not fetches[1]["contentType"].startswith("application/json"), f"the bytes were the JSON answer: {fetches}"

    # A drop on the conversation adds a file too, with the drop target shown while over it.
    dropped = a.driver.execute_script("""
      const view = document.getElementById('conversation-view');
      const data = new DataTransfer();
      data.items.add(new File(['dropped bytes'], 'dropped.txt', {type: 'text/plain'}));
      view.dispatchEvent(new DragEvent('dragenter', {dataTransfer: data, bubbles: true, cancelable: true}));
      const highlighted = view.classList.contains('dropping')
        && getComputedStyle(view.querySelector('.drop-overlay')).display !== 'none';
      document.getElementById('message-scroller').dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));
      return {highlighted, after: view.classList.contains('dropping')};""")
    assert dropped == {"highlighted": True, "after": False}, dropped
    wait_tray(a, "the dropped file to upload", lambda items: [i["name"] for i in items] == ["dropped.txt"] and items[0]["state"] == "done")

    # A picture and a waiting file on screen: axe-core and the controls' names.
    a.driver.execute_async_script(PASTE_PNG, 200, 120, "image.png")
    wait_tray(a, "the pasted picture", lambda items: len(items) == 2 and all(i["state"] == "done" for i in items))
    a.fill("Message", "two more")
    a.control("Message").send_keys(Keys.ENTER)
    b.wait("the small picture", lambda: any(t["naturalWidth"] == 200 for t in thumbnails(b)), timeout=15)
    choose_files(a, path)
    wait_tray(a, "a file waiting", lambda items: len(items) == 1 and items[0]["state"] == "done")
    for browser, label in ((a, "sender"), (b, "receiver")):
        browser.screenshot(label)
        assert not browser.unnamed_controls(), browser.unnamed_controls()
        run_axe(browser, f"web-attachments-axe-{label}")
        assert not significant_errors(browser.page_errors()), browser.page_errors()


def test_too_large_file_shows_the_server_refusal_and_sends_nothing(server, browsers, work):
    ada, bob, conversation, a, b = pair(server, browsers)
    path = write_file(work, "too-big.bin", os.urandom(MAX_BYTES + 1))
    before = len(ada.messages(conversation))

    choose_files(a, path)
    item = wait_tray(a, "the refusal", lambda items: items and items[0]["state"] == "failed" and items)[0]
    assert item["detail"].startswith("Not uploaded: "), item
    refusal = item["detail"][len("Not uploaded: "):]
    assert refusal and refusal != "payload_too_large", f"not the server's message: {item}"
    a.control("Retry uploading too-big.bin")
    a.control("Remove too-big.bin")
    assert "retry or remove" in a.js("document.getElementById('attachment-note').textContent")
    a.screenshot("refused")
    assert a.js("document.getElementById('send-button').getAttribute('aria-disabled')") == "true"

    # Enter does not send while the file is refused, and says why.
    a.fill("Message", "with the big file")
    a.control("Message").send_keys(Keys.ENTER)
    a.wait("the reason", lambda: any("retry it or remove it" in text for text in a.alerts()))
    assert a.control("Message").get_attribute("value") == "with the big file"
    # Retry asks again, and the server refuses again.
    a.click("Retry uploading too-big.bin")
    wait_tray(a, "the second refusal", lambda items: items and items[0]["state"] == "failed")
    a.click("Remove too-big.bin")
    wait_tray(a, "the tray to empty", lambda items: items == [])
    assert a.js("document.getElementById('send-button').hasAttribute('aria-disabled')") is False
    time.sleep(0.5)
    assert len(ada.messages(conversation)) == before, "something was sent"
    assert a.js("document.querySelectorAll('#message-list li.message').length") == 0
    assert not significant_errors(a.page_errors(), provoked=[r"status of 413"]), a.page_errors()

    # Neither an SVG (a document that can carry script) nor a .png that is no picture is drawn:
    # both come as file cards.
    svg = write_file(work, "drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    fake = write_file(work, "fake.png", b"this is not a picture")
    choose_files(a, svg, fake)
    wait_tray(a, "both files uploaded", lambda items: len(items) == 2 and all(i["state"] == "done" for i in items))
    a.control("Message").send_keys(Keys.ENTER)  # "with the big file" goes with them
    b.wait("two file cards", lambda: len(b.driver.find_elements(By.CSS_SELECTOR, "#message-list .file-card")) == 2, timeout=15,
           detail=lambda: str(b.texts("#message-list .message")))
    cards = b.texts("#message-list .file-card")
    assert "drawing.svg" in cards[0] and "fake.png" in cards[1] and "cannot be shown" in cards[1], cards
    assert b.js("document.querySelectorAll('#message-list img').length") == 0
    sent = ada.messages(conversation)[-1]
    assert sent["content"] == "with the big file"
    assert [(x["contentType"], x["width"]) for x in sent["attachments"]] == [("image/svg+xml", None), ("image/png", None)], sent


def test_cancelled_upload_leaves_nothing_and_eleven_files_are_refused(server, browsers, work):
    ada, bob, conversation, a, b = pair(server, browsers)
    path = write_file(work, "slow.bin", os.urandom(MAX_BYTES - 10_000))

    # Uploads at 16 KB/s: ten seconds or more for this file.
    a.driver.execute_cdp_cmd("Network.enable", {})
    a.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 16 * 1024})
    try:
        choose_files(a, path)
        wait_tray(a, "the upload under way", lambda items: items and items[0]["state"] == "uploading")
        assert a.js("document.querySelector('#attachment-tray progress').getAttribute('aria-label')") == "Uploading slow.bin"
        a.screenshot("uploading")
        assert "You can send when" in a.js("document.getElementById('attachment-note').textContent")
        a.fill("Message", "not yet")
        a.control("Message").send_keys(Keys.ENTER)
        a.wait("Enter to wait for the upload", lambda: any("finish uploading" in text for text in a.alerts()))
        a.click("Cancel upload of slow.bin")
        wait_tray(a, "no pending file", lambda items: items == [])
        assert a.js("document.getElementById('attachment-tray').hidden")
    finally:
        a.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    # The text is still there and goes alone.
    a.control("Message").send_keys(Keys.ENTER)
    b.wait("the text alone", lambda: "not yet" in b.message_texts())
    sent = ada.messages(conversation)
    assert [m["content"] for m in sent] == ["not yet"] and sent[0]["attachments"] == [], sent

    # Eleven files at once: ten go in the tray, and the person is told about the eleventh.
    paths = [write_file(work, f"part-{i:02}.txt", f"part {i}".encode()) for i in range(11)]
    choose_files(a, *paths)
    a.wait("the word about the limit", lambda: any("10 files at most" in text for text in a.alerts()))
    wait_tray(a, "ten files uploaded", lambda items: len(items) == 10 and all(i["state"] == "done" for i in items))
    assert "10 files is the most" in a.js("document.getElementById('attachment-note').textContent")
    a.control("Message").send_keys(Keys.ENTER)
    b.wait("ten file cards", lambda: len(b.driver.find_elements(By.CSS_SELECTOR, "#message-list .file-card")) == 10, timeout=15)
    assert len(ada.messages(conversation)[-1]["attachments"]) == 10
    assert not significant_errors(a.page_errors()), a.page_errors()


# MARK: previews

def test_files_alone_preview_as_their_files_in_the_list_and_in_notifications(server, browsers, work):
    ada, bob, conversation, a, b = pair(server, browsers)
    b.js("(() => {" + FAKE_NOTIFICATIONS + "})()")
    # Bob looks at another conversation, so the DM's new messages notify him.
    other = f"Other{tag()}"
    bob.group(other, ada)
    open_conversation(b, other)

    def preview(browser):
        """The entry's line under its title, with "\U0001F4CE " where it draws a paper clip."""
        return browser.driver.execute_script("""
          const line = document.querySelector(`#conversation-list button[data-conversation-id="${arguments[0]}"] .conversation-last`);
          return line && [...line.childNodes].map((n) => (n.nodeName === 'svg' ? '\\u{1F4CE} ' : n.textContent)).join('');""", conversation)

    def send_files(*paths, text=None):
        choose_files(a, *paths)
        wait_tray(a, "the files uploaded", lambda items: len(items) == len(paths) and all(i["state"] == "done" for i in items))
        if text:
            a.fill("Message", text)
        a.control("Message").send_keys(Keys.ENTER)
        wait_tray(a, "the tray to empty", lambda items: items == [])

    # One file: its name, after a paper clip (drawn in the list, so it shows without an emoji font).
    path = write_file(work, f"report-{tag()}.txt", b"the quarterly numbers")
    name = os.path.basename(path)
    send_files(path)
    b.wait("the file's name in the list", lambda: preview(b) == f"{ada.name}: \U0001F4CE {name}", detail=lambda: repr(preview(b)))
    notes = b.wait("a notification", lambda: b.js("window.shownNotifications"))
    assert notes == [{"title": ada.name, "body": f"\U0001F4CE {name}", "tag": f"message:{conversation}"}], notes
    entry = b.control(f"{ada.name},", exact=False)
    assert entry.accessible_name.endswith(f"last message: {ada.name}: \U0001F4CE {name}"), entry.accessible_name
    a.wait("Ada's own preview", lambda: preview(a) == f"You: \U0001F4CE {name}", detail=lambda: repr(preview(a)))

    # Three files: how many.
    parts = [write_file(work, f"part-{i}.txt", f"part {i}".encode()) for i in range(3)]
    send_files(*parts)
    b.wait("the count in the list", lambda: preview(b) == f"{ada.name}: \U0001F4CE 3 files", detail=lambda: repr(preview(b)))
    b.wait("the second notification", lambda: len(b.js("window.shownNotifications")) == 2)
    assert b.js("window.shownNotifications")[1]["body"] == "\U0001F4CE 3 files"

    # Text with files: the text.
    send_files(path, text="see the **report**")
    b.wait("the text in the list", lambda: preview(b) == f"{ada.name}: see the report", detail=lambda: repr(preview(b)))
    b.wait("the third notification", lambda: len(b.js("window.shownNotifications")) == 3)
    assert b.js("window.shownNotifications")[2]["body"] == "see the report"
    for browser in (a, b):
        assert not significant_errors(browser.page_errors()), browser.page_errors()


# MARK: S3 storage

def test_on_s3_storage_files_go_to_the_store_and_come_back_from_it_without_the_token(s3_server_parley, s3store, browsers, work):
    server = s3_server_parley
    ada, bob, conversation, a, b = pair(server, browsers, names=("Ada Lovelace", "Bob Stone"))
    store = s3store.endpoint + "/" + s3store.bucket + "/"

    # The page may connect to the store (its uploads and downloads go there).
    with urllib.request.urlopen(server.url + "/") as page:
        policy = page.headers["Content-Security-Policy"]
    connect = next(d for d in policy.split(";") if d.strip().startswith("connect-src")).split()
    assert s3store.endpoint in connect, policy
    for browser in (a, b):
        browser.driver.execute_script(NETWORK_LOG)

    # A picture pasted by Ada goes from her browser to the store, with progress.
    pasted = a.driver.execute_async_script(PASTE_PNG, 800, 600, "image.png")
    wait_tray(a, "the picture uploaded to the store", lambda items: len(items) == 1 and items[0]["state"] in ("done", "failed"),
              timeout=20)
    uploads = a.js("window.xhrLog")
    assert tray(a)[0]["state"] == "done", (tray(a), uploads, a.page_errors())
    assert len(uploads) == 1 and uploads[0]["method"] == "PUT" and uploads[0]["url"].startswith(store), uploads
    assert "X-Amz-Signature=" in uploads[0]["url"], uploads
    assert uploads[0]["status"] == 200 and uploads[0]["progress"] >= 1, uploads
    assert uploads[0]["loaded"] == uploads[0]["total"] == pasted["size"], (uploads, pasted)
    a.fill("Message", "The new logo, as promised")
    a.control("Message").send_keys(Keys.ENTER)
    wait_tray(a, "the tray to empty", lambda items: items == [])

    # The store holds the bytes; Parley only the record.
    stored = s3store.client().list_objects_v2(Bucket=s3store.bucket).get("Contents", [])
    assert [o["Size"] for o in stored] == [pasted["size"]], stored

    def assert_fetched_from_the_store(pair):
        """A download: Parley asked where the bytes are, with the token, answering a presigned GET
        in JSON (no 302); then the store, without the token, a cookie or a redirect."""
        question, fetch = pair
        assert question["url"].startswith(server.url + "/attachments/"), pair
        assert question["accept"] == "application/json" and question["authorization"], pair
        assert question["redirect"] == "manual", f"a redirect could carry the token: {pair}"
        assert question["status"] == 200 and not question["redirected"] and question["finalUrl"] == question["url"], pair
        assert question["contentType"].startswith("application/json"), pair
        assert fetch["url"].startswith(store) and "X-Amz-Signature=" in fetch["url"], pair
        assert not fetch["authorization"], f"the token went to the store: {pair}"
        assert fetch["credentials"] == "omit", pair
        assert fetch["status"] == 200 and not fetch["redirected"] and fetch["type"] == "cors", pair

    # Bob's browser shows it inline: Parley says where the bytes are, the store sends them.
    def shown():
        found = [t for t in thumbnails(b) if t["src"].startswith("blob:") and t["complete"] and t["naturalWidth"] > 0]
        return found[0] if found else None
    b.wait("the picture inline", shown, timeout=20,
           detail=lambda: f"{thumbnails(b)}; fetches {b.js('window.fetchLog')}; errors {b.page_errors()}")
    fetches = b.js("window.fetchLog")
    assert len(fetches) == 2, fetches
    assert_fetched_from_the_store(fetches)
    assert fetches[1]["contentType"] == "image/png", fetches

    # A text file comes back to Bob with its bytes.
    content = f"Notes from Tuesday {uuid.uuid4().hex}\n\u00e9t\u00e9 \u2713\n"
    path = write_file(work, "meeting-notes.txt", content.encode())
    choose_files(a, path)
    wait_tray(a, "the file uploaded to the store", lambda items: len(items) == 1 and items[0]["state"] in ("done", "failed"))
    assert tray(a)[0]["state"] == "done", (tray(a), a.js("window.xhrLog"))
    assert a.js("window.xhrLog")[1]["url"].startswith(store)
    a.control("Message").send_keys(Keys.ENTER)
    b.wait("the file card", lambda: b.driver.find_elements(By.CSS_SELECTOR, "#message-list .file-card"), timeout=15)
    b.driver.execute_script(CATCH_DOWNLOADS)
    b.driver.execute_script("document.querySelector('#message-list li.message:last-child').focus()")
    b.click("Download meeting-notes.txt", exact=False)
    b.wait("the download", lambda: b.js("window.downloads.length") == 1,
           detail=lambda: f"fetches {b.js('window.fetchLog')}; errors {b.page_errors()}")
    saved = b.driver.execute_async_script(READ_DOWNLOAD)
    assert saved == {"name": "meeting-notes.txt", "text": content, "size": len(content.encode())}, saved
    fetches = b.js("window.fetchLog")
    assert len(fetches) == 4, fetches
    assert_fetched_from_the_store(fetches[2:])
    # Each download asks anew (a presigned URL expires): another address than the picture's.
    assert fetches[2]["url"] != fetches[0]["url"] and fetches[3]["url"] != fetches[1]["url"], fetches
    assert b.js("document.querySelector('#conversation-list .conversation-last').textContent") == "Ada Lovelace: meeting-notes.txt"
    assert b.js("document.querySelector('#conversation-list .conversation-last svg') !== null"), "no paper clip before the file"

    # The receiver's window, for docs/screenshots/attachments.png.
    b.driver.execute_script("document.activeElement?.blur()")
    b.screenshot("receiver")
    for browser in (a, b):
        assert not significant_errors(browser.page_errors()), browser.page_errors()
