"""The browser client (web/, issue 6) driven through its UI in headless Chromium, served by Parley itself.

1. Three people sign up in three browsers; a DM started from the people search carries messages,
   typing, read markers, an edit and a delete; a group made by one of them holds a call in which every
   browser decodes the others' video and shows their tiles, and a participant leaving updates the grids.
2. The server restarts under an open browser: messages sent meanwhile over REST show up after the
   reconnect exactly once, a send that failed while it was down is retried without a duplicate, the
   session survives a reload, and a refused (reused) refresh token returns to the login screen.
3. One person through the rest: errors in words, the page's CSP and versioned scripts, unread counts
   and presence in the list, older history on scroll, opening by keyboard, group settings (rename,
   add, remove, leave), a reload across a token rotation, a refresh whose answer is lost (retried
   within the server's reuse grace), and logging out.
"""
import contextlib
import json
import os
import re
import time
import urllib.request
import uuid

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from websockets.sync import client as ws_sync

from parley_server import ARTIFACTS, Server
from web_browser import WebBrowser, significant_errors, write_tone
from web_people import PASSWORD

# info: the log says why a participant leaves a call. RATE_MESSAGES off: the tests write 120-130
# messages over REST at once to fill history, far past a person's budget.
ENV = {"RTC_PUBLIC_IP": "127.0.0.1", "LOG_LEVEL": "info", "RATE_MESSAGES": "off"}


# Loses the answer to the page's first POST /auth/refresh after the server has handled it.
LOSE_FIRST_REFRESH = """(() => {
  const original = window.fetch.bind(window);
  window.lostRefreshes = 0;
  window.fetch = async (input, init) => {
    const response = await original(input, init);
    if (String(input).endsWith("/auth/refresh") && window.lostRefreshes === 0) {
      window.lostRefreshes += 1;
      throw new TypeError("the answer was lost on purpose");
    }
    return response;
  };
})();"""


def save_metrics(server):
    with contextlib.suppress(Exception), urllib.request.urlopen(f"{server.url}/metrics", timeout=5) as response, \
            open(os.path.join(ARTIFACTS, f"{server.name}-metrics.txt"), "wb") as out:
        out.write(response.read())


def sign_up(browser, server, name):
    browser.driver.get(server.url + "/")
    browser.click("Create an account")
    browser.fill("Display name", name)
    browser.fill("Email", f"{name.lower()}@example.com")
    browser.fill("Password", PASSWORD)
    browser.click("Sign up")
    browser.control("Log out", timeout=10)


def register(server, name):
    """(user id, access token) of a new account signed up over REST, with the UI's email and password."""
    status, body = server.call("POST", "/auth/register", {"email": f"{name.lower()}@example.com", "password": PASSWORD,
                                                          "displayName": name})
    assert status == 201, body
    return body["user"]["id"], body["accessToken"]


def conversation_button(browser, title, timeout=10):
    """The conversation list entry whose accessible name starts with the conversation's title."""
    return browser.control(f"{title},", exact=False, timeout=timeout)


def label_of(browser, title):
    """The accessible name of a conversation's list entry, read afresh (the list re-renders)."""
    for _ in range(5):
        with contextlib.suppress(StaleElementReferenceException):
            return conversation_button(browser, title).accessible_name
    return ""


def typing_text(browser):
    return browser.driver.find_element(By.ID, "typing-indicator").text


def send(browser, text):
    box = browser.fill("Message", text)
    box.send_keys(Keys.ENTER)


def inbound_by_user(browser):
    stats = browser.js("window.parleyDebug.inboundStats()")
    result = {}
    for entry in stats:
        if entry["kind"] == "video" and entry["userId"]:
            result[entry["userId"]] = max(result.get(entry["userId"], 0), entry["framesDecoded"])
    return result


def b_label(browser, css):
    return browser.driver.find_element(By.CSS_SELECTOR, css).get_attribute("aria-label")


def user_ids(server, *names):
    """Display name -> user id, looked up over REST as the first person."""
    status, body = server.call("POST", "/auth/login", {"email": f"{names[0].lower()}@example.com", "password": PASSWORD})
    assert status == 200, body
    token = body["accessToken"]
    ids = {}
    for name in names:
        status, found = server.call("GET", f"/users?q={name}", token=token)
        assert status == 200, found
        ids[name] = next(u["id"] for u in found["users"] if u["displayName"] == name)
    return ids, token


def test_three_people_chat_and_call_through_the_ui():
    tag = uuid.uuid4().hex[:5]
    ada_name, bob_name, cy_name = f"Ada{tag}", f"Bob{tag}", f"Cy{tag}"
    server = Server("web-client", 18391, ENV)
    browsers = []
    try:
        # Bob's microphone is a steady loud tone, so that Parley names him the active speaker.
        tone = write_tone(os.path.join(ARTIFACTS, "web-client-tone.wav"))
        ada = WebBrowser("Ada", "web-client")
        bob = WebBrowser("Bob", "web-client", flags=[f"--use-file-for-fake-audio-capture={tone}"])
        browsers += [ada, bob]
        sign_up(ada, server, ada_name)
        sign_up(bob, server, bob_name)

        # Ada finds Bob and starts a DM; Bob sees it appear in his list and opens it.
        ada.fill("Find people", bob_name[:5])
        ada.click(f"Message {bob_name}")
        ada.wait("the DM to open", lambda: ada.driver.find_element(By.ID, "conversation-title").text == bob_name)
        send(ada, "Hello Bob, how are you?")
        ada.wait("the sent message", lambda: "Hello Bob, how are you?" in ada.message_texts())
        conversation_button(bob, ada_name).click()
        bob.wait("Ada's message", lambda: "Hello Bob, how are you?" in bob.message_texts())

        # Typing, both ways.
        ada.fill("Message", "I am writ")
        bob.wait("Ada typing", lambda: typing_text(bob) == f"{ada_name} is typing\u2026")
        bob.fill("Message", "Fine, tha")
        ada.wait("Bob typing", lambda: typing_text(ada) == f"{bob_name} is typing\u2026")
        bob.control("Message").send_keys("nks!", Keys.ENTER)
        ada.wait("Bob's reply", lambda: "Fine, thanks!" in ada.message_texts())
        ada.wait("Bob's typing to end", lambda: typing_text(ada) == "", 8)
        # Optimistic sends are not doubled by their echo.
        assert bob.message_texts() == ["Hello Bob, how are you?", "Fine, thanks!"], bob.message_texts()
        assert ada.message_texts() == ["Hello Bob, how are you?", "Fine, thanks!"], ada.message_texts()
        # Bob has read everything: Ada sees the read marker on his reply.
        ada.wait("Bob's read marker", lambda: f"Seen by {bob_name}" in ada.texts(".read-marker"))

        # Ada edits her draft into a message, then edits and deletes her own messages.
        ada.control("Message").send_keys(Keys.CONTROL, "a", Keys.DELETE)
        send(ada, "Oops, a typo")
        bob.wait("the typo message", lambda: "Oops, a typo" in bob.message_texts())
        ada.click("Edit message: Hello Bob, how are you?")
        box = ada.fill("Message", "Hello Bob, how have you been?")
        box.send_keys(Keys.ENTER)
        bob.wait("the edit", lambda: "Hello Bob, how have you been?" in bob.message_texts())
        assert "(edited)" in bob.texts("#message-list .message-head")[0]
        ada.click("Delete message: Oops, a typo")
        ada.click("Confirm delete of message: Oops, a typo")
        bob.wait("the delete", lambda: bob.message_texts() == ["Hello Bob, how have you been?", "Fine, thanks!", "This message was deleted."])
        ada.screenshot("chat")

        # Cy joins Parley; Ada makes a group with Bob and Cy.
        cy = WebBrowser("Cy", "web-client")
        browsers.append(cy)
        sign_up(cy, server, cy_name)
        ada.click("New group")
        ada.fill("Group name", f"Team {tag}")
        ada.fill("Add people", bob_name[:5])
        ada.click(f"Add {bob_name}", exact=False)
        ada.fill("Add people", cy_name[:4])
        ada.click(f"Add {cy_name}", exact=False)
        ada.click("Create group")
        ada.wait("the group to open", lambda: ada.driver.find_element(By.ID, "conversation-title").text == f"Team {tag}")
        send(ada, "Welcome to the team")
        for browser in (bob, cy):
            conversation_button(browser, f"Team {tag}").click()
            browser.wait("the welcome", lambda b=browser: "Welcome to the team" in b.message_texts())
        ids, _ = user_ids(server, ada_name, bob_name, cy_name)

        # The call: Ada starts it; Cy's list shows it in progress; Bob and Cy join.
        ada.click("Start call")
        cy.wait("the call mark", lambda: any("call in progress" in e.accessible_name for e in cy.controls(f"Team {tag},", exact=False)))
        # Bob (the loud one) joins before Cy: Cy, joining while Bob already speaks, must be told
        # who is speaking when it joins, not only at the next change.
        bob.click("Join call")
        bob.wait("Bob in the call", lambda: bob.js("window.parleyDebug.call()")["publish"] == "connected", 15)
        cy.click("Join call")
        everyone = {"Ada": (ada, ids[ada_name]), "Bob": (bob, ids[bob_name]), "Cy": (cy, ids[cy_name])}
        for name, (browser, own_id) in everyone.items():
            others = {uid for n, (_, uid) in everyone.items() if n != name}
            browser.wait("decoded video from both others",
                         lambda b=browser, o=others: all(inbound_by_user(b).get(uid, 0) > 0 for uid in o), 30,
                         lambda b=browser: f"{b.js('window.parleyDebug.call()')} {b.js('window.parleyDebug.inboundStats()')}")
        first = {name: inbound_by_user(browser) for name, (browser, _) in everyone.items()}
        time.sleep(2)
        for name, (browser, own_id) in everyone.items():
            now = inbound_by_user(browser)
            for uid, frames in now.items():
                assert frames >= first[name][uid] + 10, f"{name}: video from {uid} stalled: {first[name]} -> {now}"
            tiles = browser.js("window.parleyDebug.call()")["tiles"]
            remote = {t["userId"] for t in tiles if t["hasVideo"] and t["key"].startswith("user:")}
            assert remote == {uid for n, (_, uid) in everyone.items() if n != name}, tiles
            labels = browser.texts("#call-grid .tile-name")
            assert sorted(labels) == sorted([f"{n_} (you)" if n == name else n_ for n, n_ in
                                             (("Ada", ada_name), ("Bob", bob_name), ("Cy", cy_name))]), labels

        # Bob, the loud one, is highlighted as the active speaker; his mute reaches the others.
        bob_tile = f"#call-grid li[data-user-id='{ids[bob_name]}']"
        for browser in (ada, cy):
            browser.wait("Bob highlighted as the active speaker",
                         lambda b=browser: "speaking" in b.driver.find_element(By.CSS_SELECTOR, bob_tile).get_attribute("class"), 10)
            assert b_label(browser, bob_tile).endswith(", speaking")
        bob.click("Mute microphone")
        ada.wait("Bob shown muted", lambda: ada.driver.find_element(By.CSS_SELECTOR, bob_tile).get_attribute("data-mic-muted") == "true", 5)
        assert "muted" in b_label(ada, bob_tile)
        for name, (browser, _) in everyone.items():
            assert not browser.unnamed_controls(), f"{name}: controls without a name: {browser.unnamed_controls()}"
        ada.screenshot("call")

        # Cy leaves: Ada's and Bob's grids drop Cy.
        cy.click("Leave call")
        for browser in (ada, bob):
            browser.wait("Cy's tile gone", lambda b=browser: len(b.driver.find_elements(By.CSS_SELECTOR, "#call-grid .tile")) == 2
                         and ids[cy_name] not in {t["userId"] for t in b.js("window.parleyDebug.call()")["tiles"]}, 10)
        assert cy.driver.find_element(By.ID, "call-view").get_attribute("hidden") is not None

        for name, (browser, _) in everyone.items():
            errors = significant_errors(browser.page_errors())
            assert not errors, f"{name}: console errors {errors}"
            assert not browser.alerts(), f"{name}: alerts shown {browser.alerts()}"
    except BaseException:
        for browser in browsers:
            browser.save_diagnostics()
        save_metrics(server)
        raise
    finally:
        for browser in browsers:
            browser.quit()
        server.stop()


def test_reconnect_after_a_server_restart_misses_nothing_and_duplicates_nothing():
    tag = uuid.uuid4().hex[:5]
    ada_name, bob_name = f"Ada{tag}", f"Bob{tag}"
    name, port = "web-reconnect", 18392
    servers = [Server(name, port, ENV)]
    browser = None
    try:
        server = servers[0]
        (ada_id, _), (_, bob_token) = register(server, ada_name), register(server, bob_name)
        status, dm = server.call("POST", "/conversations", {"kind": "dm", "userId": ada_id}, bob_token)
        assert status == 201, dm
        for i in range(3):
            assert server.call("POST", f"/conversations/{dm['id']}/messages", {"content": f"before {i}"}, bob_token)[0] == 201

        # Ada logs in through the UI; the session survives a reload.
        browser = WebBrowser("Ada", "web-reconnect")
        browser.driver.get(server.url + "/")
        browser.fill("Email", f"{ada_name.lower()}@example.com")
        browser.fill("Password", PASSWORD)
        browser.click("Log in")
        browser.control("Log out")
        browser.driver.refresh()
        # At phone width one pane shows at a time, with a way back to the list.
        browser.driver.set_window_size(390, 844)
        conversation_button(browser, bob_name).click()
        browser.wait("the history", lambda: browser.message_texts() == ["before 0", "before 1", "before 2"])
        browser.control("Back to conversations")
        assert not browser.driver.find_element(By.ID, "sidebar").is_displayed()
        browser.screenshot("phone")

        # The server goes away; Ada's send fails visibly with a retry.
        servers[0].stop()
        browser.wait("the lost-connection notice", lambda: "Reconnecting" in browser.driver.find_element(By.ID, "connection-status").text, 10)
        send(browser, "sent while down")
        browser.control("Retry", timeout=10)
        # Messages arrive while the browser's server is down: a process on the same data but another
        # port takes them, so the browser cannot reconnect before all of them are stored, however
        # slow the machine. Then the server comes back on its own port.
        side = Server(f"{name}-side", port + 1, ENV, data_name=name)
        servers.append(side)
        missed = [f"missed {i}" for i in range(120)]  # more than one `after` page (100)
        for text in missed:
            status, body = side.call("POST", f"/conversations/{dm['id']}/messages", {"content": text}, bob_token)
            assert status == 201, body
        # Bob also edits and deletes messages Ada already has: the catch-up must show both.
        by_text, cursor = {}, ""
        while "before 1" not in by_text:
            status, held = side.call("GET", f"/conversations/{dm['id']}/messages?limit=100{cursor}", token=bob_token)
            assert status == 200 and held["messages"], held
            by_text.update({m["content"]: m["id"] for m in held["messages"]})
            cursor = f"&before={min(m['id'] for m in held['messages'])}"
        status, _ = side.call("PATCH", f"/conversations/{dm['id']}/messages/{by_text['before 1']}", {"content": "before 1, edited"},
                              bob_token)
        assert status == 200
        assert side.call("DELETE", f"/conversations/{dm['id']}/messages/{by_text['before 2']}", token=bob_token)[0] == 204
        side.stop()
        assert not browser.js("window.parleyDebug.socketOnline()"), "online while no server listened on its address"
        servers.append(Server(f"{name}-restarted", port, ENV, data_name=name))
        server = servers[-1]

        browser.wait("the reconnect", lambda: browser.js("window.parleyDebug.socketOnline()"), 20)
        # The failed send is retried by itself once the connection is back (same clientMsgId).
        expected = ["before 0", "before 1, edited", "This message was deleted."] + missed
        browser.wait("the missed messages", lambda: all(t in browser.message_texts() for t in expected + ["sent while down"]), 15,
                     lambda: f"{len(browser.message_texts())} shown")
        time.sleep(1)  # let any late echo arrive: it must not add a copy
        shown = browser.message_texts()
        assert sorted(shown) == sorted(expected + ["sent while down"]), f"duplicates or extras: {len(shown)} shown"
        assert shown[:123] == expected, "missed messages out of order"
        status, page = server.call("GET", f"/conversations/{dm['id']}/messages?limit=100", token=bob_token)
        assert status == 200
        assert [m["content"] for m in page["messages"]].count("sent while down") == 1, "the retried send was stored twice"
        ids_shown = browser.js("window.parleyDebug.messageIds()")
        assert len(ids_shown) == len(set(ids_shown)) == 124
        assert not browser.controls("Retry"), "the failed send still shows a retry"

        # A refresh token that was already used is refused: the client returns to the login screen with words.
        session = browser.js("JSON.parse(localStorage.getItem('parley.session'))")
        status, rotated = server.call("POST", "/auth/refresh", {"refreshToken": session["refreshToken"]})
        assert status == 200  # rotated behind the browser's back: its stored refresh token is now spent,
        status, _ = server.call("POST", "/auth/refresh", {"refreshToken": rotated["refreshToken"]})
        assert status == 200  # and its successor used, so no reuse grace applies to it
        browser.js("(() => { const s = JSON.parse(localStorage.getItem('parley.session')); s.expiresAt = Date.now();"
                   " localStorage.setItem('parley.session', JSON.stringify(s)); })()")
        browser.driver.refresh()
        browser.control("Log in")
        assert any("log in again" in text for text in browser.alerts()), browser.alerts()
        assert browser.js("localStorage.getItem('parley.session')") is None

        errors = significant_errors(browser.page_errors())
        assert not errors, f"console errors {errors}"
    except BaseException:
        if browser:
            browser.save_diagnostics()
        save_metrics(servers[-1])
        raise
    finally:
        if browser:
            browser.quit()
        for server in servers:
            server.stop()


def test_groups_history_presence_errors_and_the_session_through_the_ui():
    """What the first two tests do not reach: errors in words, the page's own headers, presence and
    unread counts in the list, history paging on scroll, group settings (rename, add, remove,
    leave) by keyboard and mouse, a session that survives a reload through a token rotation, and
    logging out."""
    tag = uuid.uuid4().hex[:5]
    ada_name, bob_name, cy_name = f"Ada{tag}", f"Bob{tag}", f"Cy{tag}"
    server = Server("web-settings", 18394, ENV)
    browser = None
    try:
        # The page: a strict CSP and scripts stamped with the client's version.
        with urllib.request.urlopen(server.url + "/", timeout=5) as response:
            csp = response.headers["Content-Security-Policy"]
            page = response.read().decode()
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "'unsafe-inline'" not in csp, csp
        assert re.search(r'src="/js/app\.js\?v=[0-9a-f]{12}"', page), page

        (_, bob_token), _ = register(server, bob_name), register(server, cy_name)

        browser = WebBrowser("Ada", "web-settings")
        browser.driver.get(server.url + "/")
        assert not browser.unnamed_controls(), browser.unnamed_controls()
        # Errors from the server reach the person in words: a wrong password, a taken email.
        browser.fill("Email", f"{bob_name.lower()}@example.com")
        browser.fill("Password", "not the password")
        browser.click("Log in")
        browser.wait("the wrong-password alert", lambda: any("password" in a.lower() for a in browser.alerts()))
        assert not any("invalid_credentials" in a for a in browser.alerts()), browser.alerts()
        browser.click("Create an account")
        browser.fill("Display name", ada_name)
        browser.fill("Email", f"{bob_name.lower()}@example.com")
        browser.fill("Password", PASSWORD)
        browser.click("Sign up")
        browser.wait("the taken-email alert", lambda: any("account with this email" in a for a in browser.alerts()))
        browser.fill("Email", f"{ada_name.lower()}@example.com")
        browser.click("Sign up")
        browser.control("Log out", timeout=10)
        status, found = server.call("GET", f"/users?q={ada_name}", token=bob_token)
        ada_id = next(u["id"] for u in found["users"] if u["displayName"] == ada_name)

        # Bob writes 130 messages while Ada has not opened the DM: the list counts them unread.
        status, dm = server.call("POST", "/conversations", {"kind": "dm", "userId": ada_id}, bob_token)
        assert status == 201, dm
        history = [f"history {i:03d}" for i in range(130)]
        for text in history:
            assert server.call("POST", f"/conversations/{dm['id']}/messages", {"content": text}, bob_token)[0] == 201
        browser.wait("130 unread and the last message",
                     lambda: "130 unread, last message: " in label_of(browser, bob_name) and "history 129" in label_of(browser, bob_name))

        # Presence: Bob's WebSocket makes his dot go online, its close offline again.
        with ws_sync.connect(server.ws_url) as socket:
            socket.send(json.dumps({"type": "auth", "id": "auth", "data": {"token": bob_token}}))
            browser.wait("Bob online", lambda: f"{bob_name}, online," in label_of(browser, bob_name))
            assert browser.driver.find_elements(By.CSS_SELECTOR, "#conversation-list .presence-dot.online")
        browser.wait("Bob offline", lambda: "online" not in label_of(browser, bob_name))

        # Opened from the keyboard: at the first unread message (issue 17: older pages load to reach
        # it, under a "New messages" divider), then the jump to the latest, which reads the rest.
        browser.js(f"document.querySelector('#conversation-list button[data-conversation-id=\"{dm['id']}\"]').focus()")
        browser.driver.switch_to.active_element.send_keys(Keys.ENTER)
        browser.wait("the first unread message", lambda: browser.message_texts()[:1] == ["history 000"])
        assert browser.driver.find_elements(By.CSS_SELECTOR, "#message-list .unread-divider")
        browser.click("Jump to latest", exact=False)
        browser.wait("the newest message", lambda: browser.message_texts()[-1:] == ["history 129"])
        browser.wait("unread cleared", lambda: "unread" not in label_of(browser, bob_name))
        for _ in range(20):
            if browser.message_texts() == history:
                break
            browser.js("document.getElementById('message-scroller').scrollTop = 0")
            time.sleep(0.5)
        assert browser.message_texts() == history, f"{len(browser.message_texts())} shown after scrolling up"

        # A group with Bob; in its settings Ada renames it, adds Cy, removes Cy, then leaves.
        browser.click("New group")
        browser.fill("Group name", f"Crew {tag}")
        browser.fill("Add people", bob_name[:5])
        browser.click(f"Add {bob_name}", exact=False)
        browser.click("Create group")
        browser.wait("the group", lambda: browser.driver.find_element(By.ID, "conversation-title").text == f"Crew {tag}")
        group_id = browser.js("window.parleyDebug.activeConversation()")

        def members():
            status, body = server.call("GET", f"/conversations/{group_id}", token=bob_token)
            return {m["user"]["displayName"] for m in body["members"]} if status == 200 else None

        browser.click("Group settings")
        browser.fill("Group name", f"Crew {tag} renamed").send_keys(Keys.ENTER)
        browser.wait("the new name", lambda: browser.driver.find_element(By.ID, "conversation-title").text == f"Crew {tag} renamed")
        assert server.call("GET", f"/conversations/{group_id}", token=bob_token)[1]["title"] == f"Crew {tag} renamed"
        browser.fill("Add a member", cy_name[:4])
        browser.click(f"Add {cy_name}", exact=False)
        browser.wait("Cy added", lambda: members() == {ada_name, bob_name, cy_name})
        browser.click(f"Remove {cy_name} from the group")
        browser.click(f"Confirm removing {cy_name}")  # removing asks first (issue 17)
        browser.wait("Cy removed", lambda: members() == {ada_name, bob_name})
        browser.control(f"Remove {bob_name} from the group")
        assert not browser.unnamed_controls("#settings-dialog"), browser.unnamed_controls("#settings-dialog")
        browser.click("Leave group")
        browser.click("Confirm leaving the group")
        browser.wait("the group gone from the list", lambda: not browser.controls(f"Crew {tag}", exact=False))
        assert members() == {bob_name}

        # A reload after the access token ran out: the refresh token is rotated, the session stays.
        before = browser.js("JSON.parse(localStorage.getItem('parley.session'))")
        browser.js("(() => { const s = JSON.parse(localStorage.getItem('parley.session')); s.expiresAt = Date.now();"
                   " localStorage.setItem('parley.session', JSON.stringify(s)); })()")
        browser.driver.refresh()
        browser.control("Log out", timeout=10)
        browser.wait("a rotated refresh token",
                     lambda: browser.js("JSON.parse(localStorage.getItem('parley.session'))")["refreshToken"] != before["refreshToken"])
        conversation_button(browser, bob_name)
        browser.driver.refresh()  # and once more on the rotated pair (presenting the spent one would revoke the login)
        browser.control("Log out", timeout=10)
        conversation_button(browser, bob_name)

        # A refresh whose answer is lost after the server rotated: the client retries the same
        # token, which the server's reuse grace accepts, and the session stays.
        script = browser.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LOSE_FIRST_REFRESH})
        before = browser.js("JSON.parse(localStorage.getItem('parley.session'))")
        browser.js("(() => { const s = JSON.parse(localStorage.getItem('parley.session')); s.expiresAt = Date.now();"
                   " localStorage.setItem('parley.session', JSON.stringify(s)); })()")
        browser.driver.refresh()
        browser.wait("a refresh answer lost", lambda: browser.js("window.lostRefreshes") == 1)
        browser.wait("the retried refresh stored",
                     lambda: browser.js("JSON.parse(localStorage.getItem('parley.session'))")["refreshToken"] != before["refreshToken"])
        browser.control("Log out", timeout=10)
        conversation_button(browser, bob_name)
        assert not any("cannot be reached" in alert for alert in browser.alerts()), browser.alerts()
        browser.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})

        # Logging out ends the session on the server too.
        session = browser.js("JSON.parse(localStorage.getItem('parley.session'))")
        browser.click("Log out")
        browser.control("Log in")
        assert browser.js("localStorage.getItem('parley.session')") is None
        assert server.call("POST", "/auth/refresh", {"refreshToken": session["refreshToken"]})[0] == 401

        errors = significant_errors(browser.page_errors(), provoked=[r"/auth/register .* status of 409"])
        assert not errors, f"console errors {errors}"
    except BaseException:
        if browser:
            browser.save_diagnostics()
        save_metrics(server)
        raise
    finally:
        if browser:
            browser.quit()
        server.stop()


def test_text_typed_in_one_conversation_never_goes_to_another():
    """The composer holds only the open conversation's text: a private note typed in a DM is
    not in the box (nor sent by Enter) after opening a group, comes back when the DM is opened
    again, survives starting and cancelling an edit, and the text of a group one is removed
    from is dropped, never shown in another conversation."""
    tag = uuid.uuid4().hex[:5]
    ada_name, bob_name = f"Ada{tag}", f"Bob{tag}"
    server = Server("web-drafts", 18396, ENV)
    browser = None
    try:
        bob, bob_token = register(server, bob_name)
        browser = WebBrowser("Ada", "web-drafts")
        sign_up(browser, server, ada_name)
        ids, _ = user_ids(server, ada_name)
        status, dm = server.call("POST", "/conversations", {"kind": "dm", "userId": ids[ada_name]}, token=bob_token)
        assert status == 201, dm
        status, group = server.call("POST", "/conversations", {"kind": "group", "title": f"Team{tag}",
                                                               "memberIds": [ids[ada_name]]}, token=bob_token)
        assert status == 201, group
        box = lambda: browser.control("Message").get_attribute("value")

        conversation_button(browser, bob_name).click()
        browser.wait("the DM to open", lambda: browser.driver.find_element(By.ID, "conversation-title").text == bob_name)
        browser.fill("Message", "private note for Bob")
        conversation_button(browser, f"Team{tag}").click()
        browser.wait("the group to open", lambda: browser.driver.find_element(By.ID, "conversation-title").text == f"Team{tag}")
        assert box() == "", "the DM's text followed into the group"
        send(browser, "hello team")
        browser.wait("the group message, confirmed", lambda: browser.message_texts() == ["hello team"]
                     and not browser.driver.find_elements(By.CSS_SELECTOR, "#message-list li.pending"))
        status, page = server.call("GET", f"/conversations/{group['id']}/messages", token=bob_token)
        assert [m["content"] for m in page["messages"]] == ["hello team"], page

        conversation_button(browser, bob_name).click()
        browser.wait("the DM's draft back", lambda: box() == "private note for Bob")
        # Editing sets the draft aside and gives it back.
        send_and_keep = "first words"
        browser.control("Message").send_keys(Keys.CONTROL, "a", Keys.DELETE)
        send(browser, send_and_keep)
        browser.wait("the DM message", lambda: browser.message_texts() == [send_and_keep])
        browser.fill("Message", "half typed")
        browser.click(f"Edit message: {send_and_keep}")
        browser.wait("the edit to fill the box", lambda: box() == send_and_keep)
        browser.control("Message").send_keys(Keys.ESCAPE)
        browser.wait("the draft after the edit", lambda: box() == "half typed")

        # Removed from the group while text waits in its box: that text goes nowhere.
        conversation_button(browser, f"Team{tag}").click()
        browser.wait("the group to open", lambda: browser.driver.find_element(By.ID, "conversation-title").text == f"Team{tag}")
        browser.fill("Message", "group secret")
        status, _ = server.call("DELETE", f"/conversations/{group['id']}/members/{ids[ada_name]}", token=bob_token)
        assert status == 204
        browser.wait("the group to go", lambda: not browser.controls(f"Team{tag},", exact=False))
        conversation_button(browser, bob_name).click()
        browser.wait("the DM's own draft", lambda: box() == "half typed")
        assert all(m["content"] != "group secret" for m in server.call(
            "GET", f"/conversations/{dm['id']}/messages", token=bob_token)[1]["messages"])
        assert not significant_errors(browser.page_errors()), browser.page_errors()
    finally:
        if browser is not None:
            browser.quit()
        server.stop()
