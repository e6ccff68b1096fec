"""The web client's administration, invitations, webhooks, system messages and sign-in safety
(issue 14), driven through its UI in headless Chromium.

The server runs with the default REGISTRATION=invite (set explicitly here, whatever the shared
fixture's default), on a fresh data folder, so the first account is the administrator and
everyone else signs up with an invitation. Each test is one path a person takes: the
administrator invites and the invitee signs up from the link; a group's webhook posts into the
other member's window beside the group's system messages; an account deactivated is signed out
and refused; a password change and "Log out everywhere" end the other logins; a non-administrator
has no way into the administration page. axe-core (from selenium-axe-python, injected into the
page, not shipped in web/) audits the administration page, the sign-up from an invitation and the
group settings with webhooks.
"""
import json
import os
import shutil
import time
import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.by import By

import web_people
from parley_server import ARTIFACTS, Server
from web_browser import opened_browsers, run_axe
from web_people import PASSWORD, log_in, open_conversation, tag

NAME = "web-admin"
ENV = {"RTC_PUBLIC_IP": "127.0.0.1", "LOG_LEVEL": "info", "RATE_MESSAGES": "off", "REGISTRATION": "invite"}
PORT = 18451
# Refusals the tests provoke on purpose (a revoked login, a refused sign-up or login, a non-admin's /admin call).
PROVOKED = [r"status of 40[13]", r"/auth/(login|register|logout|refresh)", r"/admin/"]


@pytest.fixture(scope="module")
def server():
    shutil.rmtree(os.path.join(ARTIFACTS, f"{NAME}-data"), ignore_errors=True)  # the first account must be this file's
    running = Server(NAME, PORT, ENV)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(server):
    """The server's first account: its administrator."""
    person = Person(server, "Root", invite=None)
    me = person.call("GET", "/users/me")
    assert me["role"] == "admin", me
    return person


@pytest.fixture
def browsers(request):
    yield from opened_browsers(request, NAME, check_console=True, provoked=PROVOKED)


# MARK: helpers

class Person(web_people.Person):
    """An account made over REST: with an invitation from `invite` (an administrator), or as the first account."""

    def __init__(self, server, name, invite):
        super().__init__(server, name, invite_code=invite.invite_code() if invite is not None else None)

    def invite_code(self, uses=1):
        return self.call("POST", "/admin/invites", {"maxUses": uses})["code"]


def signed_out(browser):
    return browser.js("!document.getElementById('auth-view').hidden && !document.getElementById('login-form').hidden")


def open_admin(browser):
    browser.click("Admin")
    browser.wait("the administration page", lambda: browser.js("!document.getElementById('admin-view').hidden"))
    browser.wait("the users", lambda: browser.texts("#admin-user-rows tr"))


def confirm(browser, name, confirm_prefix):
    """Clicks a two-step button and its confirmation."""
    browser.click(name)
    browser.click(confirm_prefix, exact=False)


def alert_containing(browser, text, timeout=10):
    return browser.wait(f"an alert with {text!r}", lambda: [a for a in browser.alerts() if text in a], timeout=timeout)


def user_row(browser, name):
    return browser.driver.execute_script("""
      const row = [...document.querySelectorAll('#admin-user-rows tr')].find((r) => r.cells[0].innerText.startsWith(arguments[0]));
      return row ? [...row.cells].map((c) => c.innerText) : null;""", name)


def system_lines(browser):
    return browser.texts("#message-list li.message.system .message-body")


def post_json(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code



def axe_audit(browser, label):
    return run_axe(browser, f"{NAME}-axe-{label}")


# MARK: tests

def test_admin_invites_and_the_invitee_signs_up_from_the_link(server, admin, browsers):
    t = tag()
    root = browsers("Root")
    log_in(root, server, admin)
    open_admin(root)
    assert root.js("location.hash") == "#/admin"
    assert root.js("document.activeElement.id") == "admin-title", "focus moves to the page's heading"
    axe_audit(root, "admin-page")

    # An invitation of one use: its link is shown once, with a Copy button.
    root.fill("Number of uses", "1")
    root.click("Create invitation link")
    link = root.wait("the invitation link", lambda: root.control("Invitation link").get_attribute("value"))
    assert f"{server.url}/#/signup?invite=" in link, link
    code = link.split("invite=", 1)[1]
    root.click("Copy link")
    root.wait("the copy's outcome", lambda: any(s in " ".join(root.texts(".copy-status")) for s in ("Copied", "Selected")))
    root.wait("the invitation in the list", lambda: any("0 of 1" in row for row in root.texts("#invite-rows tr")))
    axe_audit(root, "admin-page-with-invitation")

    # The invitee opens the link: the sign-up form, the code filled in.
    guest = browsers("Guest")
    guest.driver.get(link)
    guest.wait("the sign-up form", lambda: guest.js("!document.getElementById('signup-form').hidden"))
    assert guest.control("Invitation code").get_attribute("value") == code
    axe_audit(guest, "signup-with-invitation")
    guest.fill("Display name", f"Guest{t}")
    guest.fill("Email", f"guest{t}@example.com")
    guest.fill("Password", PASSWORD)
    guest.click("Sign up")
    guest.control("Log out", timeout=15)
    assert guest.js("location.hash") == "", "the invitation leaves the address once used"
    assert not guest.controls("Admin"), "a member has no Admin button"
    root.driver.refresh()
    root.wait("the invitation used up", lambda: any("1 of 1" in row and "Used up" in row for row in root.texts("#invite-rows tr")))

    # The link again, for another account: used up, said in words that say what to do.
    guest.click("Log out")
    guest.control("Log in")
    guest.driver.get(link)
    guest.wait("the sign-up form", lambda: guest.js("!document.getElementById('signup-form').hidden"))
    guest.fill("Display name", f"Second{t}")
    guest.fill("Email", f"second{t}@example.com")
    guest.fill("Password", PASSWORD)
    guest.click("Sign up")
    alert_containing(guest, "This invitation cannot be used")
    assert not guest.controls("Log out")
    # No code at all: by invitation only.
    guest.fill("Invitation code", "")
    guest.click("Sign up")
    alert_containing(guest, "by invitation only")

    # A revoked invitation's code no longer registers anyone.
    root.click("Create invitation link")
    second = root.wait("a new link", lambda: (v := root.control("Invitation link").get_attribute("value")) != link and v)
    revoke = root.wait("its Revoke button", lambda: [b for b in root.controls("Revoke invitation created", exact=False)
                                                    if b.find_element(By.XPATH, "./ancestor::tr").text.find("0 of 1") >= 0])
    revoke[0].click()
    root.click("Confirm revoking the invitation", exact=False)
    alert_containing(root, "Invitation revoked")
    status, body = server.call("POST", "/auth/register", {"email": f"late{t}@example.com", "password": PASSWORD,
                                                          "displayName": "Late", "inviteCode": second.split("invite=", 1)[1]})
    assert status == 403 and body["error"]["code"] == "registration_closed", body

    # Leaving the page: the address and focus go back.
    root.click("Close administration")
    root.wait("the page closed", lambda: root.js("document.getElementById('admin-view').hidden"))
    assert root.js("location.hash") == ""
    assert root.js("document.activeElement.id") == "admin-button"


def test_a_member_has_no_way_into_administration(server, admin, browsers):
    member = Person(server, f"Member{tag()}", invite=admin)
    browser = browsers("Member")
    log_in(browser, server, member)
    assert not browser.controls("Admin")
    browser.driver.get(server.url + "/#/admin")
    browser.control("Log out", timeout=15)
    alert_containing(browser, "for administrators only")
    assert browser.js("document.getElementById('admin-view').hidden")
    assert browser.js("location.hash") == ""
    for path in ("/admin/users", "/admin/invites", "/admin/bots"):
        assert member.call("GET", path, expect=403)["error"]["code"] == "forbidden"


def test_webhook_messages_and_system_messages_in_the_other_members_window(server, admin, browsers):
    t = tag()
    bea = Person(server, f"Bea{t}", invite=admin)
    cy = Person(server, f"Cy{t}", invite=admin)
    title = f"Builds{t}"
    group = admin.group(title, bea)

    viewer = browsers("Bea")
    log_in(viewer, server, bea)
    open_conversation(viewer, title)

    root = browsers("Root")
    log_in(root, server, admin)
    open_conversation(root, title)
    root.click("Group settings")
    root.wait("the webhooks section", lambda: root.js("!document.getElementById('webhook-section').hidden"))
    # A rename through the dialog and a member added: two system messages.
    renamed = f"CI{t}"
    root.fill("Group name", renamed)
    root.click("Rename")
    alert_containing(root, "Group renamed")
    admin.call("POST", f"/conversations/{group}/members", {"userId": cy.id})

    root.fill("Webhook name", f"Deploys{t}")
    root.click("Create webhook")
    url = root.wait("the webhook's address", lambda: root.control(f"Address of the webhook Deploys{t}").get_attribute("value"))
    assert "/hooks/" in url, url
    root.control("Copy address")
    root.wait("the webhook listed", lambda: any(f"Deploys{t}" in li for li in root.texts("#webhook-list li")))
    axe_audit(root, "group-settings-with-webhooks")
    root.click("Close")
    # The dialog's close event (asynchronous) clears the address: it is shown once.
    root.wait("the address cleared", lambda: root.js("document.getElementById('webhook-created').children.length") == 0)

    assert post_json(url, {"content": f"deploy {t} finished"}) == 201
    viewer.wait("the webhook's message", lambda: any(f"deploy {t} finished" in m for m in viewer.message_texts()), timeout=15)
    item = viewer.driver.execute_script("""
      const li = [...document.querySelectorAll('#message-list li.message')].find((m) => m.innerText.includes(arguments[0]));
      return {sender: li.querySelector('.sender').innerText, badge: li.querySelector('.sender-badge')?.innerText};""", f"deploy {t} finished")
    assert item["sender"] == f"Deploys{t}", item
    assert item["badge"].lower() == "webhook", item

    # System messages: centered lines, no bubble actions, no "Seen by" under them.
    lines = viewer.wait("the system messages", lambda: (s := system_lines(viewer)) and len(s) >= 2 and s)
    assert any(f"renamed the group to {renamed}" in line for line in lines), lines
    assert any(f"added Cy{t}" in line for line in lines), lines
    shape = viewer.driver.execute_script("""
      const items = [...document.querySelectorAll('#message-list li.message.system')];
      return items.map((li) => ({buttons: li.querySelectorAll('button').length, seen: li.querySelectorAll('.read-marker').length,
        head: li.querySelectorAll('.message-head').length, align: getComputedStyle(li).alignSelf, text: getComputedStyle(li).textAlign}));""")
    assert all(s == {"buttons": 0, "seen": 0, "head": 0, "align": "center", "text": "center"} for s in shape), shape
    viewer.wait("the new title", lambda: viewer.js("document.getElementById('conversation-title').textContent") == renamed)

    # A plain member sees no webhooks in the settings; the owner deletes the webhook, and its address stops working.
    viewer.click("Group settings")
    viewer.control("Close")
    assert viewer.js("document.getElementById('webhook-section').hidden")
    viewer.click("Close")
    root.click("Group settings")
    root.click(f"Delete webhook Deploys{t}")
    root.click(f"Confirm deleting Deploys{t}")
    alert_containing(root, "no longer works")
    root.wait("the list emptied", lambda: not root.texts("#webhook-list li"))
    assert post_json(url, {"content": "too late"}) == 404


def test_a_deactivated_user_is_signed_out_and_refused_and_bots_come_and_go(server, admin, browsers):
    t = tag()
    dee = Person(server, f"Dee{t}", invite=admin)
    victim = browsers("Dee")
    log_in(victim, server, dee)

    root = browsers("Root")
    log_in(root, server, admin)
    open_admin(root)
    root.fill("Search users", f"Dee{t}")
    root.click("Search")
    root.wait("Dee alone in the list", lambda: len(root.texts("#admin-user-rows tr")) == 1 and user_row(root, f"Dee{t}"))
    confirm(root, f"Deactivate Dee{t}", f"Confirm deactivating Dee{t}")
    alert_containing(root, "deactivated")
    root.wait("Dee shown deactivated", lambda: (row := user_row(root, f"Dee{t}")) and row[3].startswith("Deactivated"))

    # Dee's open window is signed out, and logging in again is refused in clear words.
    victim.wait("Dee's window signed out", lambda: signed_out(victim), timeout=20)
    log_in(victim, server, dee, expect_app=False)
    alert_containing(victim, "deactivated by an administrator")
    assert signed_out(victim)

    # The last administrator cannot be demoted or deactivated; the refusal is said.
    root.fill("Search users", "Root")
    root.click("Search")
    root.wait("Root in the list", lambda: user_row(root, "Root"))
    confirm(root, "Make Root a member", "Confirm: Root no longer")
    alert_containing(root, "last active administrator")
    confirm(root, "Deactivate Root", "Confirm deactivating Root")
    alert_containing(root, "last active administrator")

    # Reactivated, Dee signs in again.
    root.fill("Search users", f"Dee{t}")
    root.click("Search")
    root.wait("Dee in the list", lambda: user_row(root, f"Dee{t}"))
    confirm(root, f"Reactivate Dee{t}", f"Confirm reactivating Dee{t}")
    alert_containing(root, "can sign in again")
    log_in(victim, server, dee)

    # Promote and demote another account.
    confirm(root, f"Make Dee{t} an administrator", f"Confirm: Dee{t} an administrator")
    root.wait("Dee an administrator", lambda: (row := user_row(root, f"Dee{t}")) and row[2] == "Administrator")
    confirm(root, f"Make Dee{t} a member", f"Confirm: Dee{t} no longer")
    root.wait("Dee a member again", lambda: (row := user_row(root, f"Dee{t}")) and row[2] == "Member")

    # Paging: with a page of 25, a full list of more than 25 accounts has a next page.
    root.fill("Search users", "")
    root.click("Search")
    total = admin.call("GET", "/admin/users?limit=200")["users"]
    if len(total) > 25:
        root.click("Next page")
        root.wait("page 2", lambda: root.js("document.getElementById('admin-users-page').textContent") == "Page 2")
        root.click("Previous page")

    # A bot: its token shown once, then revoked.
    root.fill("Bot name", f"Robo{t}")
    root.click("Create bot")
    token = root.wait("the bot's token", lambda: root.control(f"Token of the bot Robo{t}").get_attribute("value"))
    status, me = server.call("GET", "/users/me", token=token)
    assert status == 200 and me["role"] == "bot", me
    root.wait("the bot listed", lambda: any(f"Robo{t}" in row and "Active" in row for row in root.texts("#bot-rows tr")))
    confirm(root, f"Revoke bot Robo{t}", f"Confirm revoking Robo{t}")
    alert_containing(root, "its token no longer works")
    # Gone from the list (the server lists bots that have a token), or shown revoked.
    root.wait("the bot revoked", lambda: not any(f"Robo{t}" in row and "Active" in row for row in root.texts("#bot-rows tr")))
    assert server.call("GET", "/users/me", token=token)[0] == 401


def test_password_change_and_log_out_everywhere(server, admin, browsers):
    t = tag()
    eve = Person(server, f"Eve{t}", invite=admin)
    here, there = browsers("Here"), browsers("There")
    log_in(here, server, eve)
    log_in(there, server, eve)

    here.click("Profile")
    here.fill("Current password", "not my password")
    here.fill("New password", "a brand new secret")
    here.fill("New password again", "a brand new secret")
    here.click("Change password")
    here.wait("the refusal", lambda: "current password is wrong" in here.js("document.getElementById('password-error').textContent"))
    assert here.js("document.activeElement.id") == "password-current"
    here.fill("Current password", PASSWORD)
    here.click("Change password")
    alert_containing(here, "Password changed")

    # The other browser's login ended; the old password is refused, the new one works.
    there.wait("the other browser signed out", lambda: signed_out(there), timeout=20)
    status, body = server.call("POST", "/auth/login", {"email": eve.email, "password": PASSWORD})
    assert status == 401 and body["error"]["code"] == "invalid_credentials", body
    log_in(there, server, eve, password=PASSWORD, expect_app=False)
    alert_containing(there, "Could not log in")
    eve.password = "a brand new secret"
    log_in(there, server, eve)
    time.sleep(0.5)
    assert not signed_out(here), "the browser that changed the password stays signed in"

    # Log out everywhere (the profile dialog is still open): this page signs out too, and so does the other.
    here.click("Log out everywhere")
    here.click("Confirm: log out everywhere")
    here.wait("this page signed out", lambda: signed_out(here), timeout=15)
    alert_containing(here, "logged out on every device")
    there.wait("the other page signed out", lambda: signed_out(there), timeout=20)
    assert not here.js("localStorage.getItem('parley.session')")
