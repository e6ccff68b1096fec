// Sign-up from an invitation link (issue 14): the server's link is `<origin>/#/signup?invite=<code>`;
// the sign-up form opens with the code filled in. Registration is by invitation by default
// (REGISTRATION=invite), so a refusal (403 `registration_closed`) is explained in words that say
// what to do: ask for a (new) invitation.

import { describeError } from "./api.js?v=dev";

/** `{invite}` when the address is the sign-up page (with the invitation's code, or ""), else null. */
export function signupRoute() {
  const match = /^#\/signup(?:\?(.*))?$/.exec(location.hash);
  if (!match) return null;
  return { invite: (new URLSearchParams(match[1] ?? "").get("invite") ?? "").trim() };
}

/** Words for a refused sign-up. */
export function describeSignupError(error, inviteCode) {
  if (error?.code === "registration_closed") {
    return inviteCode
      ? "This invitation cannot be used: it is used up, expired or was revoked, or the code is mistyped. Ask an administrator for a new invitation link."
      : "This server takes new accounts by invitation only. Ask an administrator for an invitation link, or enter the invitation code.";
  }
  return describeError(error);
}
