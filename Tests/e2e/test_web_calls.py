"""Calls, notifications and profile of the web client (issue 17), driven through its UI in
headless Chromium with fake media devices.

- An incoming call rings: a banner (role alertdialog, named) with Accept and Decline, a WebAudio
  ring tone, a browser notification when the tab is hidden; Decline sends `call.decline`.
- A DM call ends when the other person hangs up; joining another call asks first.
- With the camera or the microphone denied the call's buttons do not offer to mute them.
- A shared screen's tile can be shown large (click or keyboard) and back (Escape).
- Unread count in the tab title, browser notifications for messages, a per-conversation mute.
- Profile: display name and avatar URL (PATCH /users/me).
- The server's ringing rules seen in the client (docs/protocol.md "Calls"): `call.declined`,
  `call.left` `declined` and `unanswered` (after CALL_RING_TIMEOUT seconds).

Screenshots for the record go to $PARLEY_ARTIFACTS/screens/<SCREENS_LABEL>-*.png (label "after" by
default; run with SCREENS_LABEL=before and WEB_ROOT at an older client to compare).
"""
import os
import socket
import time
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import web_people
from parley_server import ARTIFACTS, Server
from web_browser import FAKE_NOTIFICATIONS, opened_browsers
from web_people import open_conversation

ENV = {"RTC_PUBLIC_IP": "127.0.0.1", "LOG_LEVEL": "info", "RATE_MESSAGES": "off"}
SCREENS = os.path.join(ARTIFACTS, "screens")
SCREENS_LABEL = os.environ.get("SCREENS_LABEL", "after")

# The tab as if another one were in front (headless Chromium keeps every page visible).
HIDE_TAB = """
Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
document.dispatchEvent(new Event("visibilitychange"));"""
SHOW_TAB = """
delete document.visibilityState; delete document.hidden;
document.dispatchEvent(new Event("visibilitychange"));"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    instance = Server("web-calls", free_port(), ENV)
    yield instance
    instance.stop()


@pytest.fixture
def browsers(request):
    yield from opened_browsers(request, "web-calls", check_console=True)


class Person(web_people.Person):
    """An account whose display name is `name` and a random suffix (the tests share a server and
    give their people the same names), and the browser it logged in with (`log_in`)."""

    def __init__(self, server, name):
        super().__init__(server, f"{name}{uuid.uuid4().hex[:4]}")
        self.browser = None


def people(server, *names):
    return [Person(server, name) for name in names]


def log_in(browser, server, person):
    """web_people.log_in, with the browser kept as `person.browser`, once the conversation list
    (or its empty hint) shows."""
    person.browser = browser
    web_people.log_in(browser, server, person, timeout=10)
    browser.wait("the conversation list", lambda: browser.js("document.querySelectorAll('#conversation-list button').length") > 0
                 or browser.js("document.querySelector('#conversation-list .empty-hint') !== null"))
    return browser


def ada_calls_bob(server, browsers, group_title=None):
    """Ada and Bob, each logged in to a browser, and Ada starting a call in their DM, or in a
    group of the two titled `group_title`: how most tests here begin. Returns Ada, Bob and the
    conversation's id."""
    ada, bob = people(server, "Ada", "Bob")
    conversation = ada.group(group_title, bob) if group_title else ada.dm(bob)
    log_in(browsers("Ada"), server, ada)
    log_in(browsers("Bob"), server, bob)
    open_conversation(ada.browser, group_title or bob.name)
    ada.browser.click("Start call")
    return ada, bob, conversation


def has_joined(browser, person):
    """Whether `person` is in the call this browser is in."""
    return person.id in (browser.js("window.parleyDebug.call().participants") or [])


def in_call(browser):
    return browser.js("window.parleyDebug.call().conversationId")


def call_view_hidden(browser):
    return browser.driver.find_element(By.ID, "call-view").get_attribute("hidden") is not None


def out_frames(browser, type_):
    return [f for f in browser.js("window.parleyDebug.frames()") if f["direction"] == "out" and f["type"] == type_]


def banner(browser):
    """(accessible name, role) of the incoming-call banner shown, or None."""
    return browser.driver.execute_script("""
      const node = [...document.querySelectorAll('[role=alertdialog]')].find((e) => e.offsetParent !== null || e.getClientRects().length);
      if (!node) return null;
      const title = document.getElementById(node.getAttribute('aria-labelledby'));
      return {name: title ? title.textContent : node.getAttribute('aria-label'), role: node.getAttribute('role'),
              focusInside: node.contains(document.activeElement)};""")


def ringing(browser):
    return browser.js("window.parleyDebug.ringing ? window.parleyDebug.ringing() : null")


def screenshot(browser, label):
    os.makedirs(SCREENS, exist_ok=True)
    path = os.path.join(SCREENS, f"{SCREENS_LABEL}-{label}.png")
    browser.driver.save_screenshot(path)
    return path


# MARK: ringing

def test_incoming_dm_call_rings_with_banner_tone_and_notification_and_can_be_declined(server, browsers):
    """Defect 2: an incoming call showed only a "Call" mark in the list."""
    ada, bob = people(server, "Ada", "Bob")
    ada.dm(bob)
    log_in(browsers("Ada"), server, ada)
    log_in(browsers("Bob"), server, bob)
    bob.browser.js("(() => {" + FAKE_NOTIFICATIONS + "})()")
    bob.browser.driver.execute_script(HIDE_TAB)

    open_conversation(ada.browser, bob.name)
    ada.browser.click("Start call")
    ada.browser.wait("Ada in the call", lambda: in_call(ada.browser))

    # Bob: a banner he can act on by keyboard, a tone, and (tab hidden) a browser notification.
    accept = bob.browser.control(f"Accept call from {ada.name}", timeout=10)
    bob.browser.control(f"Decline call from {ada.name}")
    shown = banner(bob.browser)
    assert shown and shown["role"] == "alertdialog" and shown["name"] == "Incoming call", shown
    assert shown["focusInside"], f"focus did not move to the incoming-call banner: {bob.browser.js('document.activeElement.outerHTML')[:200]}"
    assert bob.browser.js("document.activeElement") == accept
    state = bob.browser.wait("the ring tone", lambda: (r := ringing(bob.browser)) and r["tone"] and r)
    assert state["incoming"], state
    notes = bob.browser.wait("a call notification", lambda: bob.browser.js("window.shownNotifications"))
    assert notes[0]["title"] == f"{ada.name} is calling", notes
    assert not bob.browser.unnamed_controls()

    # Decline, by keyboard: the banner goes, the tone stops, Parley is told.
    bob.browser.driver.execute_script(SHOW_TAB)
    bob.browser.driver.switch_to.active_element.send_keys(Keys.TAB)  # to Decline
    assert bob.browser.js("document.activeElement.getAttribute('aria-label')") == f"Decline call from {ada.name}"
    bob.browser.driver.switch_to.active_element.send_keys(Keys.ENTER)
    bob.browser.wait("the banner to go", lambda: banner(bob.browser) is None)
    assert not ringing(bob.browser)["tone"]
    assert out_frames(bob.browser, "call.decline"), "no call.decline sent"
    assert not in_call(bob.browser)
    # In a DM the decline ends the call for Ada (call.left declined), and Bob's screen stays quiet.
    ada.browser.wait("Ada's call to end", lambda: not in_call(ada.browser))
    assert any("declined" in text for text in ada.browser.alerts()), ada.browser.alerts()
    time.sleep(0.5)
    assert banner(bob.browser) is None


def test_accepting_from_the_banner_joins_and_ringing_stops_everywhere(server, browsers):
    """Defect 2: Accept joins the call; the banner and tone stop when the person joins, also from
    another tab of theirs; a group call starting rings too."""
    ada, bob, room = ada_calls_bob(server, browsers, group_title=f"Room{uuid.uuid4().hex[:4]}")
    bob.browser.control(f"Accept call from {ada.name}", timeout=10)
    shown = banner(bob.browser)
    assert shown["name"] == "Call started", shown
    bob.browser.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ALT, Keys.SHIFT, "a")
    bob.browser.wait("Bob in the call", lambda: in_call(bob.browser) == room)
    bob.browser.wait("the banner to go", lambda: banner(bob.browser) is None)
    assert not ringing(bob.browser)["tone"]
    ada.browser.wait("two people in Ada's call", lambda: has_joined(ada.browser, bob))


# MARK: ending and switching

def test_dm_call_ends_when_the_other_person_hangs_up(server, browsers):
    """Defect 14 (first half): Ada stayed alone in a DM call Bob had left."""
    ada, bob, _ = ada_calls_bob(server, browsers)
    ada.browser.wait("Ada in the call", lambda: in_call(ada.browser))
    open_conversation(bob.browser, ada.name)
    bob.browser.click("Join call")
    ada.browser.wait("Bob in Ada's call", lambda: has_joined(ada.browser, bob))
    bob.browser.click("Leave call")
    ada.browser.wait("Ada's call to end", lambda: call_view_hidden(ada.browser) and not in_call(ada.browser), timeout=10)
    assert any(f"{bob.name} hung up" in text for text in ada.browser.alerts()), ada.browser.alerts()


def test_joining_another_call_asks_before_leaving_this_one(server, browsers):
    """Defect 5: starting a call elsewhere silently left the current one."""
    ada, bob = people(server, "Ada", "Bob")
    ada.dm(bob)
    title = f"Team{uuid.uuid4().hex[:4]}"
    room = ada.group(title, bob)
    log_in(browsers("Ada"), server, ada)
    log_in(browsers("Bob"), server, bob)
    open_conversation(ada.browser, bob.name)
    ada.browser.click("Start call")
    open_conversation(bob.browser, ada.name)
    bob.browser.click("Join call")
    ada.browser.wait("Bob in Ada's call", lambda: has_joined(ada.browser, bob))
    first = in_call(ada.browser)

    open_conversation(ada.browser, title)
    ada.browser.click("Start call")
    ada.browser.wait("the confirmation", lambda: ada.browser.js("document.querySelector('dialog[open]')"))
    dialog = ada.browser.driver.find_element(By.CSS_SELECTOR, "dialog[open]")
    assert dialog.accessible_name == "Leave your current call?", dialog.accessible_name
    assert ada.browser.js("document.activeElement.textContent") == "Stay in current call"
    # Escape (or "Stay in current call") keeps the call.
    ada.browser.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    ada.browser.wait("the dialog to close", lambda: not ada.browser.js("document.querySelector('dialog[open]')"))
    assert in_call(ada.browser) == first
    assert not out_frames(ada.browser, "call.leave")

    ada.browser.click("Start call")
    ada.browser.click("Leave and join")
    ada.browser.wait("Ada in the group's call", lambda: in_call(ada.browser) == room)
    # Bob, left alone in the DM call, is not kept waiting there.
    bob.browser.wait("Bob's DM call to end", lambda: in_call(bob.browser) != first, timeout=10)


def test_buttons_say_when_camera_or_microphone_is_denied(server, browsers):
    """Defect 14 (second half): with the camera or microphone denied, the buttons still offered to
    mute it or turn it off."""
    (ada,) = people(server, "Ada")
    title = f"Solo{uuid.uuid4().hex[:4]}"
    ada.group(title)
    browser = log_in(browsers("Ada"), server, ada)
    # The camera is refused, the microphone allowed.
    browser.driver.execute_script("""
      const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      window.denyKinds = ["video"];
      navigator.mediaDevices.getUserMedia = (constraints) => (window.denyKinds.some((kind) => constraints[kind])
        ? Promise.reject(new DOMException("Permission denied", "NotAllowedError")) : original(constraints));""")
    open_conversation(browser, title)
    browser.click("Start call")
    camera = browser.driver.find_element(By.ID, "camera-toggle")
    mic = browser.driver.find_element(By.ID, "mic-toggle")
    # Waits for the call and its media, not for a status line (which changes as the connection does).
    browser.wait("the call with its media", lambda: in_call(browser) and camera.text == "No camera" and mic.text == "Mute microphone")
    assert camera.text == "No camera" and not camera.is_enabled(), camera.text
    assert mic.text == "Mute microphone" and mic.is_enabled(), mic.text
    browser.driver.execute_script("document.querySelectorAll('.alert-close').forEach((b) => b.click())")
    browser.click("Leave call")
    browser.wait("the call to end", lambda: call_view_hidden(browser))

    # Both refused.
    browser.driver.execute_script("window.denyKinds = ['video', 'audio'];")
    browser.driver.execute_script("document.querySelectorAll('.alert-close').forEach((b) => b.click())")
    browser.click("Start call")
    browser.wait("the call with its media", lambda: in_call(browser) and mic.text == "No microphone")
    assert (camera.text, camera.is_enabled(), mic.text, mic.is_enabled()) == ("No camera", False, "No microphone", False)
    assert browser.controls("Mute microphone") == [] and browser.controls("Turn camera off") == []
    browser.click("Leave call")


def test_a_shared_screen_can_be_shown_large_and_back(server, browsers):
    title = f"Demo{uuid.uuid4().hex[:4]}"
    ada, bob, _ = ada_calls_bob(server, browsers, group_title=title)
    open_conversation(bob.browser, title)
    bob.browser.click("Join call")
    ada.browser.wait("Bob in Ada's call", lambda: has_joined(ada.browser, bob))
    ada.browser.click("Share screen")
    enlarge = bob.browser.control(f"Enlarge {ada.name}'s screen", timeout=15)
    assert enlarge.get_attribute("aria-pressed") == "false"
    enlarge.send_keys(Keys.ENTER)
    bob.browser.wait("the screen shown large", lambda: bob.browser.js("window.parleyDebug.call().focusedKey"))
    grid = bob.browser.driver.find_element(By.ID, "call-grid")
    assert "has-focused" in grid.get_attribute("class")
    tile = bob.browser.driver.find_element(By.CSS_SELECTOR, "#call-grid .tile.focused")
    others = [t for t in bob.browser.driver.find_elements(By.CSS_SELECTOR, "#call-grid .tile") if t != tile]
    assert all(tile.size["width"] > 2 * t.size["width"] for t in others), (tile.size, [t.size for t in others])
    assert bob.browser.control(f"Enlarge {ada.name}'s screen").get_attribute("aria-pressed") == "true"
    screenshot(bob.browser, "screen-enlarged")
    bob.browser.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    bob.browser.wait("the grid again", lambda: not bob.browser.js("window.parleyDebug.call().focusedKey"))
    assert bob.browser.js("document.activeElement.getAttribute('aria-label')") == f"Enlarge {ada.name}'s screen"
    # A click on the picture does it too.
    bob.browser.driver.find_element(By.CSS_SELECTOR, "#call-grid .tile.screen video").click()
    bob.browser.wait("the screen shown large", lambda: bob.browser.js("window.parleyDebug.call().focusedKey"))


# MARK: notifications and mute

def test_unread_title_notifications_and_per_conversation_mute(server, browsers):
    ada, bob = people(server, "Ada", "Bob")
    chat = ada.dm(bob)
    other = f"Other{uuid.uuid4().hex[:4]}"
    bob.group(other)
    browser = log_in(browsers("Bob"), server, bob)
    browser.js("(() => {" + FAKE_NOTIFICATIONS + "})()")
    open_conversation(browser, other)
    assert browser.driver.title == "Parley"

    def say(text):
        status, body = server.call("POST", f"/conversations/{chat}/messages", {"content": text, "clientMsgId": str(uuid.uuid4())}, ada.token)
        assert status == 201, body

    say("Lunch at noon?")
    browser.wait("the unread count in the title", lambda: browser.driver.title == "(1) Parley")
    notes = browser.wait("a message notification", lambda: browser.js("window.shownNotifications"))
    assert notes == [{"title": ada.name, "body": "Lunch at noon?", "tag": f"message:{chat}"}], notes

    # Reading it clears the title; muting the DM (kept per user across reloads) silences it.
    open_conversation(browser, ada.name)
    browser.wait("the title without a count", lambda: browser.driver.title == "Parley")
    button = browser.control("Mute conversation")
    assert button.get_attribute("aria-pressed") == "false"
    button.click()
    browser.wait("the mute", lambda: browser.controls("Unmute conversation"))
    assert browser.control("Unmute conversation").get_attribute("aria-pressed") == "true"
    assert chat in browser.js(f"localStorage.getItem('parley.muted.{bob.id}')")
    open_conversation(browser, other)
    say("Still there?")
    browser.wait("the unread badge", lambda: "1 unread" in browser.control(f"{ada.name},", exact=False).accessible_name)
    time.sleep(0.3)
    assert browser.driver.title == "Parley"
    assert len(browser.js("window.shownNotifications")) == 1

    # A call in a muted conversation shows its banner, without the tone.
    ada_browser = log_in(browsers("Ada"), server, ada)
    open_conversation(ada_browser, bob.name)
    ada_browser.click("Start call")
    browser.control(f"Accept call from {ada.name}", timeout=10)
    assert ringing(browser)["tone"] is False
    browser.click(f"Decline call from {ada.name}")

    browser.driver.refresh()
    browser.control("Log out", timeout=10)
    open_conversation(browser, ada.name)
    assert browser.control("Unmute conversation").get_attribute("aria-pressed") == "true"


# MARK: profile

def test_profile_display_name_and_avatar(server, browsers):
    (ada,) = people(server, "Ada")
    browser = log_in(browsers("Ada"), server, ada)
    browser.click("Profile")
    browser.wait("the profile dialog", lambda: browser.js("document.getElementById('profile-dialog')?.open"))
    assert browser.js("document.activeElement.id") == "profile-name"
    assert not browser.unnamed_controls("#profile-dialog")
    browser.fill("Avatar URL", "ftp://example.com/a.png")
    browser.click("Save profile")
    browser.wait("the error", lambda: "http" in browser.driver.find_element(By.ID, "profile-error").text)
    assert browser.driver.find_element(By.ID, "profile-avatar").get_attribute("aria-invalid") == "true"

    new_name = f"Ada Lovelace {uuid.uuid4().hex[:4]}"
    browser.fill("Display name", new_name)
    browser.fill("Avatar URL", "https://example.com/ada.png")
    browser.click("Save profile")
    browser.wait("the dialog to close", lambda: not browser.js("document.getElementById('profile-dialog').open"))
    browser.wait("the new name", lambda: browser.driver.find_element(By.ID, "me-name").text == new_name)
    assert browser.js("document.activeElement.id") == "profile-button"
    status, me = server.call("GET", "/users/me", token=ada.token)
    assert status == 200 and me["displayName"] == new_name and me["avatarUrl"] == "https://example.com/ada.png", me

    # Removing the avatar, by keyboard: Escape cancels, Enter in a field saves.
    browser.click("Profile")
    browser.fill("Avatar URL", "").send_keys(Keys.ENTER)
    browser.wait("the dialog to close", lambda: not browser.js("document.getElementById('profile-dialog').open"))
    browser.wait("the avatar removed", lambda: server.call("GET", "/users/me", token=ada.token)[1]["avatarUrl"] is None)
    browser.driver.refresh()
    browser.wait("the name after a reload", lambda: browser.driver.find_element(By.ID, "me-name").text == new_name)


# MARK: the server's ringing rules: call.decline, unanswered, alone

def test_declined_dm_call_ends_for_the_caller(server, browsers):
    ada, bob, _ = ada_calls_bob(server, browsers)
    bob.browser.click(f"Decline call from {ada.name}", timeout=10)
    ada.browser.wait("Ada's call to end", lambda: call_view_hidden(ada.browser) and not in_call(ada.browser), timeout=10)
    assert f"{bob.name} declined the call." in ada.browser.alerts(), ada.browser.alerts()


def test_declining_a_group_call_tells_the_participants(server, browsers):
    ada, bob, _ = ada_calls_bob(server, browsers, group_title=f"Crew{uuid.uuid4().hex[:4]}")
    bob.browser.click(f"Decline call from {ada.name}", timeout=10)
    ada.browser.wait("the decline told", lambda: f"{bob.name} declined the call." in ada.browser.alerts())
    assert in_call(ada.browser), "a group call goes on after one member declines"


def test_unanswered_dm_call_ends_for_the_caller(browsers):
    quick = Server("web-calls-unanswered", free_port(), {**ENV, "CALL_RING_TIMEOUT": "3"})
    try:
        ada, bob, _ = ada_calls_bob(quick, browsers)
        bob.browser.control(f"Accept call from {ada.name}", timeout=10)
        ada.browser.wait("Ada's call to end", lambda: call_view_hidden(ada.browser) and not in_call(ada.browser), timeout=15)
        assert f"{bob.name} did not answer. The call ended." in ada.browser.alerts(), ada.browser.alerts()
        bob.browser.wait("Bob's banner to go", lambda: banner(bob.browser) is None, timeout=5)
    finally:
        quick.stop()


# MARK: screenshots (pass on any client: they are for comparing before and after)

def test_screenshots_incoming_call_call_in_progress_and_phone_width(server, browsers):
    ada, bob = people(server, "Ada", "Bob")
    ada.dm(bob)
    log_in(browsers("Ada"), server, ada)
    log_in(browsers("Bob", size=(390, 844)), server, bob)
    open_conversation(ada.browser, bob.name)
    ada.browser.click("Start call")
    bob.browser.wait("the call seen", lambda: bob.browser.driver.find_elements(By.CSS_SELECTOR, ".incoming-call, .call-mark"))
    time.sleep(0.5)
    paths = [screenshot(bob.browser, "incoming-call-phone")]
    bob.browser.driver.set_window_size(1100, 800)
    time.sleep(0.3)
    paths.append(screenshot(bob.browser, "incoming-call"))
    bob.browser.driver.set_window_size(390, 844)
    if bob.browser.controls(f"Accept call from {ada.name}"):
        bob.browser.click(f"Accept call from {ada.name}")
    else:
        open_conversation(bob.browser, ada.name)
        bob.browser.click("Join call")
    ada.browser.wait("two in the call", lambda: has_joined(ada.browser, bob), timeout=15)
    time.sleep(2)
    paths.append(screenshot(ada.browser, "call-in-progress"))
    paths.append(screenshot(bob.browser, "call-in-progress-phone"))
    for path in paths:
        assert os.path.getsize(path) > 0
