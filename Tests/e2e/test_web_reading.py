"""The web client's reading, writing and places (issue 17), driven through its UI in headless Chromium.

Each test is one of the issue's defects or features: drafts per conversation and across reloads
with an address per conversation; opening at the first unread message, read state only for what
was on screen, the jump to the latest; the thread staying on the newest messages when a call
starts; the New group dialog and Find people by keyboard; edits, the 4,000-character limit and
Up arrow; group membership with confirmation and explanation; an outage; the phone-width header;
people of one name told apart; formatting, links and dates; and an axe-core audit of the pages
(axe.min.js from the selenium-axe-python package, injected into the page, not shipped in web/).
"""
import contextlib
import json
import time
import uuid

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from websockets.sync import client as ws_sync

import web_people
from parley_server import Server
from web_browser import opened_browsers, run_axe, significant_errors
from web_people import PASSWORD, log_in, open_conversation, tag

ENV = {"RTC_PUBLIC_IP": "127.0.0.1", "LOG_LEVEL": "info", "RATE_MESSAGES": "off"}
PORT = 18471


@pytest.fixture(scope="module")
def server():
    running = Server("web-reading", PORT, ENV)
    yield running
    running.stop()


@pytest.fixture
def browsers(request):
    yield from opened_browsers(request, "web-reading")


# MARK: helpers

class Person(web_people.Person):
    """An account, with the messages and unread counts these tests set up and read over REST."""

    def say(self, conversation, text):
        return self.call("POST", f"/conversations/{conversation}/messages", {"content": text, "clientMsgId": str(uuid.uuid4())})

    def unread(self, conversation):
        return self.call("GET", f"/conversations/{conversation}")["unreadCount"]


def messages_in_view(browser):
    """Bodies of the messages that are at least partly inside the message scroller."""
    return browser.driver.execute_script("""
      const box = document.getElementById('message-scroller').getBoundingClientRect();
      return [...document.querySelectorAll('#message-list li.message')].filter((li) => {
        const r = li.getBoundingClientRect();
        return r.bottom > box.top + 2 && r.top < box.bottom - 2;
      }).map((li) => li.querySelector('.message-body').innerText);""")


def active(browser):
    return browser.driver.execute_script(
        "const e = document.activeElement; return {tag: e.tagName, id: e.id, cls: e.className, label: e.getAttribute('aria-label') || e.textContent.slice(0, 60)};")


def press(browser, *keys):
    ActionChains(browser.driver).send_keys(*keys).perform()



def axe_audit(browser, label):
    return run_axe(browser, f"web-reading-axe-{label}")


# MARK: 1 and 13: drafts and places

def test_drafts_and_addresses_survive_reload_and_back(server, browsers):
    t = tag()
    ada, bob, cy = Person(server, f"Ada{t}"), Person(server, f"Bob{t}"), Person(server, f"Cy{t}")
    with_bob, with_cy = ada.dm(bob), ada.dm(cy)
    ada.say(with_bob, "hello bob")
    ada.say(with_cy, "hello cy")
    browser = browsers("Ada")
    log_in(browser, server, ada)

    open_conversation(browser, bob.name)
    browser.fill("Message", "half a thought for bob")
    assert browser.js("location.hash") == f"#/c/{with_bob}"
    open_conversation(browser, cy.name)
    assert browser.control("Message").get_attribute("value") == "", "the draft followed into another conversation (1)"
    assert browser.js("location.hash") == f"#/c/{with_cy}"

    # Reload: the same conversation, not an empty screen.
    browser.driver.refresh()
    browser.wait("the conversation to reopen after a reload",
                 lambda: browser.js("document.getElementById('conversation-title').textContent") == cy.name
                 and browser.js("!document.getElementById('conversation-view').hidden"), timeout=15)
    # Back: the previous conversation, with its draft kept across the reload.
    browser.driver.back()
    browser.wait("Back to open the previous conversation",
                 lambda: browser.js("document.getElementById('conversation-title').textContent") == bob.name)
    browser.wait("the draft after a reload", lambda: browser.control("Message").get_attribute("value") == "half a thought for bob")
    # A link to a conversation opens it in a fresh page.
    browser.driver.get(f"{server.url}/#/c/{with_cy}")
    browser.wait("the linked conversation", lambda: browser.js("document.getElementById('conversation-title').textContent") == cy.name,
                 timeout=15)
    assert not significant_errors(browser.page_errors())


# MARK: 3: reading

def test_opens_at_first_unread_and_reports_only_what_was_seen(server, browsers):
    t = tag()
    ada, bob = Person(server, f"Ada{t}"), Person(server, f"Bob{t}")
    group = bob.group(f"Busy{t}", ada)
    ids = [bob.say(group, f"old {i}")["id"] for i in range(60)]
    ada.call("POST", f"/conversations/{group}/read", {"messageId": ids[-1]})
    for i in range(140):
        bob.say(group, f"unread {i}")
    assert ada.unread(group) == 140
    browser = browsers("Ada")
    log_in(browser, server, ada)
    open_conversation(browser, f"Busy{t}")

    # The divider above the first unread message, in view; the newest far below, not shown.
    browser.wait("the New messages divider", lambda: browser.js("document.querySelector('#message-list .unread-divider') !== null"))
    browser.wait("the first unread message in view", lambda: "unread 0" in messages_in_view(browser))
    assert "unread 139" not in messages_in_view(browser)
    time.sleep(1.0)  # any read report would have gone out by now
    left = ada.unread(group)
    assert left > 100, f"read reported for messages never shown: {left} of 140 left unread"

    # New messages while reading far up: a hint, not a read.
    bob.say(group, "a fresh one")
    jump = browser.control("Jump to latest", exact=False)
    browser.wait("the hint to count new messages", lambda: "new" in browser.control("Jump to latest", exact=False).text)
    assert ada.unread(group) >= left
    jump.click()
    browser.wait("the newest message in view", lambda: "a fresh one" in messages_in_view(browser))
    browser.wait("everything shown to be reported read", lambda: ada.unread(group) == 0)
    browser.wait("the jump button to go", lambda: not browser.controls("Jump to latest", exact=False))
    # Older history (read before) loads as the reader scrolls up.
    for _ in range(20):
        if "old 0" in browser.message_texts():
            break
        browser.js("document.getElementById('message-scroller').scrollTop = 0")
        time.sleep(0.4)
    assert browser.message_texts()[:1] == ["old 0"], browser.message_texts()[:3]


# MARK: 4: calls keep the thread on the newest

@pytest.mark.parametrize("size", [(1100, 800), (390, 800)], ids=["desktop", "phone"])
def test_starting_a_call_keeps_the_newest_messages_in_view(server, browsers, size):
    t = tag()
    ada, bob = Person(server, f"Ada{t}"), Person(server, f"Bob{t}")
    dm = ada.dm(bob)
    for i in range(60):
        (ada if i % 2 else bob).say(dm, f"line {i}")
    ada.call("POST", f"/conversations/{dm}/read", {"messageId": bob.say(dm, "the newest line")["id"]})
    browser = browsers("Ada", size=size)
    log_in(browser, server, ada)
    open_conversation(browser, bob.name)
    browser.wait("the newest message in view", lambda: "the newest line" in messages_in_view(browser))
    browser.click("Start call")
    browser.wait("the call view", lambda: browser.js("!document.getElementById('call-view').hidden"), timeout=15)
    time.sleep(1.0)  # the layout settles (tiles, media)
    browser.wait("the newest message still in view in a call", lambda: "the newest line" in messages_in_view(browser),
                 detail=lambda: f"in view: {messages_in_view(browser)[-3:]}")
    with contextlib.suppress(AssertionError):
        browser.click("Leave call", timeout=3)


# MARK: 6 and 12: New group and Find people by keyboard

def test_new_group_and_people_search_by_keyboard(server, browsers):
    t = tag()
    ada, bob = Person(server, f"Ada{t}"), Person(server, f"Bob{t}")
    browser = browsers("Ada")
    log_in(browser, server, ada)

    browser.click("New group")
    browser.fill("Group name", f"Plans{t}").send_keys(Keys.ENTER)
    time.sleep(0.5)
    assert browser.js("document.getElementById('group-dialog').open"), "Enter in the name created the group"
    search = browser.fill("Add people", bob.name)
    browser.control(f"Add {bob.name}", exact=False)
    search.send_keys(Keys.ENTER)
    browser.wait("Bob among the members", lambda: bob.name in browser.js("document.getElementById('group-chosen').textContent"))
    assert browser.js("document.getElementById('group-dialog').open"), "Enter in Add people created the group"
    browser.click("Create group")
    browser.wait("the group to open", lambda: browser.js("document.getElementById('conversation-title').textContent") == f"Plans{t}")
    members = {m["user"]["id"] for m in ada.call("GET", "/conversations")["conversations"][0]["members"]}
    assert members == {ada.id, bob.id}

    # Find people: Down arrow into the results, Enter on the box opens the first.
    people = browser.fill("Find people", bob.name)
    browser.control(f"Message {bob.name}", exact=False)
    people.send_keys(Keys.ARROW_DOWN)
    browser.wait("focus on the first person found", lambda: active(browser)["label"].startswith(f"Message {bob.name}"))
    press(browser, Keys.ARROW_UP)
    browser.wait("focus back in the search box", lambda: active(browser)["id"] == "user-search")
    press(browser, Keys.ENTER)
    browser.wait("the DM to open by Enter", lambda: browser.js("document.getElementById('conversation-title').textContent") == bob.name)


# MARK: 7: editing and the length limit

def test_edit_keeps_the_draft_and_long_text_is_flagged_not_cut(server, browsers):
    t = tag()
    ada, bob = Person(server, f"Ada{t}"), Person(server, f"Bob{t}")
    dm = ada.dm(bob)
    ada.say(dm, "first version")
    browser = browsers("Ada")
    log_in(browser, server, ada)
    open_conversation(browser, bob.name)
    box = browser.control("Message")
    box.send_keys("")
    # Up arrow in the empty box edits one's last message.
    box.send_keys(Keys.ARROW_UP)
    browser.wait("Up arrow to start an edit", lambda: browser.control("Message").get_attribute("value") == "first version")
    browser.click("Cancel edit")
    browser.fill("Message", "my unsent words")
    browser.click("Edit message: first version")
    browser.fill("Message", "second version")
    browser.click("Save")
    browser.wait("the edit to show", lambda: "second version" in browser.message_texts())
    browser.wait("the draft back in the box", lambda: browser.control("Message").get_attribute("value") == "my unsent words")

    # Over 4,000 characters: typed whole, counted, refused with a reason, never cut.
    long_text = ("word " * 810).strip()  # 4,049 characters
    box = browser.fill("Message", long_text[:3990])
    box.send_keys(long_text[3990:])
    assert len(browser.control("Message").get_attribute("value")) == len(long_text), "text over 4,000 characters was cut"
    counter = browser.js("document.getElementById('char-counter').textContent")
    assert "over" in counter, counter
    box.send_keys(Keys.ENTER)
    browser.wait("an alert about the limit", lambda: any("limit" in a for a in browser.alerts()))
    assert len(browser.control("Message").get_attribute("value")) == len(long_text)
    assert "word word" not in " ".join(browser.message_texts())


# MARK: 8: group membership

def test_removing_and_leaving_ask_first_and_explain(server, browsers):
    t = tag()
    ada, bob, cy = Person(server, f"Ada{t}"), Person(server, f"Bob{t}"), Person(server, f"Cy{t}")
    group = ada.group(f"Crew{t}", bob, cy)
    cy.say(group, "cy was here")
    said = ada.say(group, "ada speaks")  # (sending moves one's own marker: Cy reads a later message)
    ada_b, bob_b = browsers("Ada"), browsers("Bob")
    log_in(ada_b, server, ada)
    log_in(bob_b, server, bob)
    open_conversation(ada_b, f"Crew{t}")
    open_conversation(bob_b, f"Crew{t}")
    for browser in (ada_b, bob_b):
        browser.wait("the socket to be up", lambda: browser.js("window.parleyDebug.socketOnline()"))
    time.sleep(0.3)
    cy.call("POST", f"/conversations/{group}/read", {"messageId": said["id"]})
    ada_b.wait("Cy's read marker", lambda: cy.name in " ".join(ada_b.texts("#message-list .read-marker")),
               detail=lambda: str([f for f in ada_b.js("window.parleyDebug.frames()") if 'read' in json.dumps(f)][-5:]) + str(ada_b.texts("#message-list li")))

    ada_b.click("Group settings")
    ada_b.click(f"Remove {cy.name} from the group")
    time.sleep(0.5)
    assert cy.id in {m["user"]["id"] for m in ada.call("GET", f"/conversations/{group}")["members"]}, "removed on one click"
    ada_b.click(f"Confirm removing {cy.name}")
    ada_b.wait("Cy gone", lambda: cy.id not in {m["user"]["id"] for m in ada.call("GET", f"/conversations/{group}")["members"]})
    ada_b.wait("the settings to drop Cy", lambda: cy.name not in ada_b.js("document.getElementById('settings-members').textContent"))
    ada_b.click(f"Remove {bob.name} from the group")
    ada_b.click(f"Confirm removing {bob.name}")
    ada_b.click("Close")
    # Bob is told why the group went.
    bob_b.wait("Bob to be told he was removed", lambda: any(f"Crew{t}" in a and "removed" in a for a in bob_b.alerts()))
    # Ada: former members keep their names; "1 member".
    ada_b.wait("the header to say 1 member", lambda: ada_b.js("document.getElementById('conversation-subtitle').textContent").startswith("1 member,"))
    texts = " ".join(ada_b.texts("#message-list li.message"))
    markers = " ".join(ada_b.texts("#message-list .read-marker"))
    assert "Someone" not in texts and cy.name in markers, texts
    ada_b.click("Group settings")
    ada_b.click("Leave group")
    time.sleep(0.5)
    assert ada_b.js("document.getElementById('settings-dialog').open"), "left on one click"
    ada_b.click("Confirm leaving the group")
    ada_b.wait("the group to go", lambda: not ada_b.controls(f"Crew{t},", exact=False))
    assert not any("removed" in a for a in ada_b.alerts()), ada_b.alerts()


# MARK: 9: an outage

def test_outage_notice_pending_sends_and_presence(browsers):
    name = f"web-reading-outage-{tag()}"
    server = Server(name, PORT + 1, ENV)
    bob_socket = None
    try:
        t = tag()
        ada, bob = Person(server, f"Ada{t}"), Person(server, f"Bob{t}")
        dm = ada.dm(bob)
        ada.say(dm, "before the outage")
        bob_socket = ws_sync.connect(server.ws_url)
        bob_socket.send(json.dumps({"type": "auth", "id": "a", "data": {"token": bob.token}}))
        browser = browsers("Ada")
        log_in(browser, server, ada)
        open_conversation(browser, bob.name)
        dot = "document.querySelector('#conversation-list .presence-dot.online') !== null"
        browser.wait("Bob's presence dot to be green", lambda: browser.js(dot))

        server.stop()
        bob_socket = None
        browser.wait("the reconnect notice", lambda: browser.js("!document.getElementById('connection-status').hidden"), timeout=15)
        covered = browser.driver.execute_script("""
          const box = document.getElementById('composer-input').getBoundingClientRect();
          const x = box.left + box.width / 2, y = box.top + box.height / 2;
          const hit = document.elementFromPoint(x, y);
          return hit && hit.id === 'composer-input' ? null : (hit ? hit.outerHTML.slice(0, 80) : 'nothing');""")
        assert covered is None, f"the message box is covered by {covered}"
        assert not browser.js(dot), "a presence dot stays green while the connection is down"
        browser.fill("Message", "sent during the outage").send_keys(Keys.ENTER)
        browser.wait("the send to fail for want of a connection",
                     lambda: browser.js("document.querySelector('#message-list li.pending.failed') !== null"), timeout=20)
        status = " ".join(browser.texts("#message-list li.pending .message-status"))
        assert "Not sent" not in status and "automatically" in status, status

        server = Server(name + "-2", PORT + 1, ENV, data_name=name)
        browser.wait("the message to go out after the reconnect",
                     lambda: browser.js("document.querySelector('#message-list li.pending') === null")
                     and "sent during the outage" in browser.message_texts(), timeout=40)
        browser.wait("the notice to go", lambda: browser.js("document.getElementById('connection-status').hidden"), timeout=10)
    finally:
        if bob_socket is not None:
            with contextlib.suppress(Exception):
                bob_socket.close()
        server.stop()


# MARK: 10: phone width

def test_phone_header_shows_the_whole_group_name(server, browsers):
    t = tag()
    ada, bob = Person(server, f"Ada{t}"), Person(server, f"Bob{t}")
    title = f"Weekly planning {t}"
    ada.group(title, bob)
    browser = browsers("Ada", size=(390, 800))
    log_in(browser, server, ada)
    open_conversation(browser, title)
    cut = browser.js("(() => { const e = document.getElementById('conversation-title'); return e.scrollWidth > e.clientWidth + 1; })()")
    assert not cut, "the group name is cut at phone width"
    browser.screenshot("phone-header")


# MARK: 11: people of one name

def test_same_named_people_are_told_apart_in_search(server, browsers):
    t = tag()
    ada = Person(server, f"Ada{t}")
    sam1, sam2 = Person(server, f"Sam{t}"), Person(server, f"Sam{t}")
    ada.group(f"Sams{t}", sam1, sam2)
    browser = browsers("Ada")
    log_in(browser, server, ada)
    found = ada.call("GET", f"/users?q=Sam{t}")["users"]
    # The server tells namesakes apart for people who share a conversation (their email).
    assert sorted(user.get("email") for user in found) == sorted([sam1.email, sam2.email]), found
    browser.fill("Find people", f"Sam{t}")
    browser.wait("two results", lambda: len(browser.controls(f"Message Sam{t}", exact=False)) == 2)
    results = browser.driver.execute_script("""
      return [...document.querySelectorAll('#user-results .user-result')].map((b) => ({
        avatar: b.querySelector('.avatar') && b.querySelector('.avatar').textContent,
        text: b.innerText, label: b.getAttribute('aria-label')}));""")
    assert all(r["avatar"] == "S" for r in results), results
    assert {sam1.email, sam2.email} <= {line for r in results for line in r["text"].split("\n")}, results
    assert len({r["label"] for r in results}) == 2, results


# MARK: 12: keyboard and focus

def test_keyboard_paths_and_focus(server, browsers):
    t = tag()
    browser = browsers("Ada")
    browser.driver.get(server.url + "/")
    browser.control("Log in")
    browser.driver.find_element(By.TAG_NAME, "body").click()
    browser.driver.execute_script("document.activeElement.blur()")
    press(browser, Keys.TAB)
    assert "skip-link" not in active(browser)["cls"], "the skip link shows on the sign-in page"
    assert not browser.js("(() => { const s = document.querySelector('.skip-link'); s.focus(); return document.activeElement === s; })()"), \
        "the skip link (to a message box that is not there) can be reached on the sign-in page"

    browser.click("Create an account")
    browser.fill("Display name", f"Kay{t}")
    browser.fill("Email", f"kay{t}@example.com")
    browser.fill("Password", PASSWORD).send_keys(Keys.ENTER)
    browser.control("Log out", timeout=15)
    browser.wait("focus after sign-up", lambda: active(browser)["tag"] not in ("BODY", None), detail=lambda: str(active(browser)))

    status, body = server.call("POST", "/auth/login", {"email": f"kay{t}@example.com", "password": PASSWORD})
    kay_token = body["accessToken"]
    lee = Person(server, f"Lee{t}")
    status, conversation = server.call("POST", "/conversations", {"kind": "dm", "userId": lee.id}, token=kay_token)
    for i in range(4):
        server.call("POST", f"/conversations/{conversation['id']}/messages", {"content": f"mine {i}", "clientMsgId": str(uuid.uuid4())},
                    token=kay_token)
    browser.wait("the DM in the list", lambda: browser.controls(f"{lee.name},", exact=False), timeout=15)
    open_conversation(browser, lee.name)
    browser.wait("four messages", lambda: len(browser.message_texts()) == 4)
    # Tab stops inside the message list: one, not two for each own message.
    stops = browser.driver.execute_script("""
      return [...document.querySelectorAll('#message-scroller button, #message-scroller [tabindex], #message-scroller a[href]')]
        .filter((e) => e.tabIndex >= 0 && e.offsetParent !== null).length;""")
    assert stops <= 2, f"{stops} Tab stops in a list of four own messages"

    # Delete by keyboard: focus stays in the list, not on the page.
    browser.click("Delete message: mine 3")
    browser.click("Confirm delete of message: mine 3")
    browser.wait("the message to be deleted", lambda: "This message was deleted." in browser.message_texts())
    browser.wait("focus after delete", lambda: active(browser)["tag"] != "BODY", detail=lambda: str(active(browser)))
    # The skip link works once a conversation is open.
    assert browser.js("!document.getElementById('skip-link').hidden")


# MARK: 15 and writing: formatting, links, dates

def test_formatting_links_and_dates(server, browsers):
    t = tag()
    ada, bob = Person(server, f"Ada{t}"), Person(server, f"Bob{t}")
    dm = ada.dm(bob)
    bob.say(dm, "see https://example.com/a_b_c. and **bold** with *it* and _un_ and `x<b>y`")
    bob.say(dm, "bad javascript:alert(1) and <img src=x onerror=alert(2)>")
    bob.say(dm, "> quoted line\nafter\n```\nlet a = 1;\n```")
    browser = browsers("Ada")
    log_in(browser, server, ada)
    open_conversation(browser, bob.name)
    browser.wait("three messages", lambda: len(browser.message_texts()) == 3)
    info = browser.driver.execute_script("""
      const bodies = [...document.querySelectorAll('#message-list .message-body')];
      const a = bodies[0].querySelector('a');
      return {href: a && a.href, text: a && a.textContent, rel: a && a.rel, target: a && a.target,
        strong: bodies[0].querySelector('strong')?.textContent, em: [...bodies[0].querySelectorAll('em')].map((e) => e.textContent),
        code: bodies[0].querySelector('code')?.textContent, links2: bodies[1].querySelectorAll('a').length,
        img: document.querySelectorAll('#message-list img').length, quote: bodies[2].querySelector('blockquote')?.textContent,
        pre: bodies[2].querySelector('pre code')?.textContent,
        separators: [...document.querySelectorAll('#message-list .date-separator')].map((e) => e.textContent),
        grouped: document.querySelectorAll('#message-list li.message.grouped').length,
        title: document.querySelector('#message-list li.message time').getAttribute('title')};""")
    assert info["href"] == "https://example.com/a_b_c" and info["text"] == "https://example.com/a_b_c", info
    assert info["rel"] == "noopener noreferrer" and info["target"] == "_blank", info
    assert info["strong"] == "bold" and info["em"] == ["it", "un"] and info["code"] == "x<b>y", info
    assert info["links2"] == 0 and info["img"] == 0, info
    assert info["quote"] == "quoted line" and info["pre"] == "let a = 1;", info
    assert info["separators"] == ["Today"], info
    assert info["grouped"] == 2, info
    year = time.strftime("%Y")
    assert year in (info["title"] or ""), info
    # A message from another year shows its year.
    old = browser.driver.execute_async_script("""
      const done = arguments[arguments.length - 1];
      import('/js/dom.js?v=dev').then((m) => done(m.formatTime('2019-03-04T10:00:00Z'))).catch((e) => done(String(e)));""")
    assert "2019" in old, old
    # The list's one-line preview shows the text as read, not the marks typed.
    bob.say(dm, "**done** with `the fix`, see > _notes_")
    preview = lambda: browser.driver.execute_script(
        "return document.querySelector('#conversation-list .conversation-last')?.textContent")
    browser.wait("the preview of the new message", lambda: "done" in (preview() or ""))
    assert preview() == f"{bob.name}: done with the fix, see > notes", preview()
    assert not significant_errors(browser.page_errors())


# MARK: accessibility

def test_axe_core_finds_no_serious_violations(server, browsers):
    t = tag()
    ada, bob = Person(server, f"Ada{t}"), Person(server, f"Bob{t}")
    dm = ada.dm(bob)
    group = ada.group(f"Axe{t}", bob)
    bob.say(dm, "a **formatted** message with a link https://example.com and `code`")
    ada.say(dm, "my own message")
    bob.say(group, "> a quote\nand more")
    browser = browsers("Ada")
    browser.driver.get(server.url + "/")
    browser.control("Log in")
    axe_audit(browser, "sign-in")
    log_in(browser, server, ada)
    axe_audit(browser, "signed-in")
    open_conversation(browser, bob.name)
    browser.wait("messages", lambda: len(browser.message_texts()) == 2)
    browser.fill("Find people", bob.name[:4])
    browser.control(f"Message {bob.name}", exact=False)
    result = axe_audit(browser, "conversation")
    print(f"axe-core {result['version']}")
    open_conversation(browser, f"Axe{t}")
    browser.click("Group settings")
    axe_audit(browser, "group-settings")
    browser.click("Close")
    browser.click("New group")
    axe_audit(browser, "new-group")
    browser.click("Cancel")
    phone = browsers("Phone", size=(390, 800))
    log_in(phone, server, ada)
    open_conversation(phone, bob.name)
    axe_audit(phone, "phone-conversation")
