"""The people of the browser tests (test_web_*.py): accounts made over REST to set a scene quickly,
and the first steps every such test takes in the client with them (logging in, opening a
conversation). A test file subclasses Person for the calls only it makes."""
import uuid

PASSWORD = "correct horse 42"


def tag():
    """A short random mark for the names in one test: the tests of a file share a server, and the
    client finds people and conversations by name, so every test needs names of its own."""
    return uuid.uuid4().hex[:5]


class Person:
    """An account registered over REST (with `invite_code` where the server registers by
    invitation only), and what a test does as that person without a browser."""

    def __init__(self, server, name, invite_code=None):
        self.server, self.name = server, name
        # A random part: two people may share a display name, never an email.
        self.email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:6]}@example.com"
        self.password = PASSWORD  # what log_in types; a test that changes the password updates it
        body = {"email": self.email, "password": PASSWORD, "displayName": name}
        if invite_code is not None:
            body["inviteCode"] = invite_code
        status, answer = server.call("POST", "/auth/register", body)
        assert status == 201, answer
        self.id, self.token = answer["user"]["id"], answer["accessToken"]

    def call(self, method, path, body=None, expect=None):
        """The answer to a request made with this person's token, which must succeed (any 2xx) or,
        for a refusal the test provokes, have the status `expect`."""
        status, answer = self.server.call(method, path, body, token=self.token)
        if expect is None:
            assert status < 300, (method, path, status, answer)
        else:
            assert status == expect, (method, path, status, answer)
        return answer

    def dm(self, other):
        """The id of this person's DM with `other`."""
        return self.call("POST", "/conversations", {"kind": "dm", "userId": other.id})["id"]

    def group(self, title, *others):
        """The id of a new group this person owns, with `others` in it."""
        return self.call("POST", "/conversations", {"kind": "group", "title": title, "memberIds": [o.id for o in others]})["id"]


def log_in(browser, server, person, password=None, expect_app=True, timeout=15):
    """Logs `person` in through the client's login form (with `password` instead of theirs, to
    try a wrong one) and, unless `expect_app` is false (a login the test expects refused), waits
    up to `timeout` seconds for the signed-in page. Returns the browser."""
    browser.driver.get(server.url + "/")
    browser.fill("Email", person.email)
    browser.fill("Password", password or person.password)
    browser.click("Log in")
    if expect_app:
        browser.control("Log out", timeout=timeout)
    return browser


def open_conversation(browser, title):
    """Opens a conversation from the list, as a click on its entry does (its accessible name
    starts with the title), and waits for the thread's heading to show the title."""
    browser.control(f"{title},", exact=False).click()
    browser.wait(f"{title} to open", lambda: browser.js("document.getElementById('conversation-title').textContent") == title)
