#!/usr/bin/env bash
# Property-based API test of a running Parley server against its own OpenAPI document.
#
#   Tests/api/schemathesis.sh BASE_URL            e.g. Tests/api/schemathesis.sh http://127.0.0.1:8080
#
# Start the server with AUTH_RATE_LIMIT=off (the run registers and logs in far more than
# 10 times per 30 s), REGISTRATION=open (it signs up three people) and preferably a low BCRYPT_COST (e.g. 4) so it stays fast.
#
# What it does:
#   1. registers three fresh users (random emails) with curl: A (the caller), B and C;
#   2. as A, creates a group with B and C, a DM with B, and posts messages, so that the
#      path parameters {id}, {msgId} and {userId} point at real resources;
#   3. runs schemathesis against BASE_URL/openapi.yaml with A's bearer token, checking
#      not_a_server_error (no 5xx), status_code_conformance, content_type_conformance and
#      response_schema_conformance on every operation (the /auth/* routes included).
# Exits non-zero on any failure (setup or schemathesis).
#
# Environment (all optional):
#   ST_SEED          hypothesis seed                     (default 20261121)
#   ST_MAX_EXAMPLES  examples per operation and phase    (default 30)
#   ST_WORKERS       concurrent workers                  (default 1: deterministic order)
#   ST_TIMEOUT       hard limit for the schemathesis run in seconds (default 300)
#   ST_REPORT_DIR    where the JUnit report goes         (default <repo>/artifacts/schemathesis)
set -euo pipefail

usage() { echo "usage: $0 BASE_URL   (e.g. http://127.0.0.1:8080)" >&2; exit 2; }
[[ $# -eq 1 && -n "$1" ]] || usage
case "$1" in http://*|https://*) ;; *) usage ;; esac
BASE_URL="${1%/}"

for tool in curl jq schemathesis; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 2; }
done

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SEED="${ST_SEED:-20261121}"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-30}"
WORKERS="${ST_WORKERS:-1}"
RUN_TIMEOUT="${ST_TIMEOUT:-300}"
REPORT_DIR="${ST_REPORT_DIR:-$REPO_ROOT/artifacts/schemathesis}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# api METHOD PATH EXPECTED_STATUS [JSON_BODY] -> prints the response body; fails on another status.
api() {
    local method="$1" path="$2" expected="$3" body="${4-}" status
    local args=(-sS -o "$WORK/body" -w '%{http_code}' -X "$method" --max-time 10
                -H 'Accept: application/json')
    [[ -n "${TOKEN-}" ]] && args+=(-H "Authorization: Bearer $TOKEN")
    [[ -n "$body" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    status="$(curl "${args[@]}" "$BASE_URL$path")" || { echo "error: $method $path: request failed" >&2; exit 1; }
    if [[ "$status" != "$expected" ]]; then
        echo "error: $method $path answered $status, expected $expected: $(head -c 500 "$WORK/body")" >&2
        exit 1
    fi
    cat "$WORK/body"
}

# Wait (up to 30 s) for the server.
for _ in $(seq 1 60); do
    curl -fsS --max-time 2 -o /dev/null "$BASE_URL/healthz" 2>/dev/null && break
    sleep 0.5
done
curl -fsS --max-time 5 -o /dev/null "$BASE_URL/healthz" || { echo "error: $BASE_URL/healthz does not answer" >&2; exit 1; }
curl -fsS --max-time 5 -o "$WORK/openapi.yaml" "$BASE_URL/openapi.yaml" \
    || { echo "error: $BASE_URL/openapi.yaml does not answer" >&2; exit 1; }

# --- fixtures ------------------------------------------------------------------------
RUN_ID="$(date +%s)-$$-$RANDOM"
PASSWORD="schemathesis-$RANDOM$RANDOM"
register() { # register NAME -> AuthResponse
    local email="st-$1-$RUN_ID@example.test"
    api POST /auth/register 201 "$(jq -nc --arg e "$email" --arg p "$PASSWORD" --arg n "ST $1 $RUN_ID" \
        '{email: $e, password: $p, displayName: $n}')"
}
TOKEN=""
A_JSON="$(register a)"; B_JSON="$(register b)"; C_JSON="$(register c)"
TOKEN="$(jq -er .accessToken <<<"$A_JSON")"
A_ID="$(jq -er .user.id <<<"$A_JSON")"
B_ID="$(jq -er .user.id <<<"$B_JSON")"
C_ID="$(jq -er .user.id <<<"$C_JSON")"

GROUP_ID="$(api POST /conversations 201 "$(jq -nc --arg b "$B_ID" --arg c "$C_ID" \
    '{kind: "group", title: "schemathesis group", memberIds: [$b, $c]}')" | jq -er .id)"
DM_ID="$(api POST /conversations 201 "$(jq -nc --arg b "$B_ID" '{kind: "dm", userId: $b}')" | jq -er .id)"
# The same DM again is 200 with the same conversation.
[[ "$(api POST /conversations 200 "$(jq -nc --arg b "$B_ID" '{kind: "dm", userId: $b}')" | jq -er .id)" == "$DM_ID" ]] \
    || { echo "error: repeated DM creation returned another conversation" >&2; exit 1; }
MSG_EDIT_ID="$(api POST "/conversations/$GROUP_ID/messages" 201 \
    '{"content": "hello from schemathesis", "clientMsgId": "st-1"}' | jq -er .id)"
MSG_DELETE_ID="$(api POST "/conversations/$GROUP_ID/messages" 201 \
    '{"content": "to be deleted", "clientMsgId": "st-2"}' | jq -er .id)"
DM_MSG_ID="$(api POST "/conversations/$DM_ID/messages" 201 '{"content": "hi B"}' | jq -er .id)"
echo "fixtures: caller=$A_ID group=$GROUP_ID dm=$DM_ID messages=$MSG_EDIT_ID,$MSG_DELETE_ID,$DM_MSG_ID removable member=$C_ID"

# --- schemathesis ----------------------------------------------------------------------
# Path parameters, cursors and id fields in bodies are drawn from the fixtures most of the
# time (dictionaries bound with a probability), and generated freely otherwise, so both the
# success paths and the 404/422 paths are exercised. {id} is the group (owned by the caller)
# or the DM. removeMember only ever targets C, never the caller (the owner leaving would
# cost the caller access to the group for the rest of the run); editMessage and
# deleteMessage get different messages so the edit is not always a 404 after the delete.
# logoutAll and deactivateAccount are left out: either would end the caller's login (the
# stateful phase finds the caller's id in GET /admin/users, and once it has made B an
# administrator the caller is no longer the last one), and every later request would be a 401.
# The caller is the server's first account, so its administrator: the other /admin routes run
# as such.
# Body `userId`s include the caller (DM with oneself: 422), B (existing DM: 200; already a
# member: 409) and C (new DM: 201; re-adding C after removal: 201).
toml_list() { jq -nc '$ARGS.positional' --args "$@"; } # JSON string arrays are valid TOML arrays
cat >"$WORK/schemathesis.toml" <<TOML
[dictionaries]
conversations = { values = $(toml_list "$GROUP_ID" "$DM_ID") }
messages = { values = $(toml_list "$MSG_EDIT_ID" "$MSG_DELETE_ID" "$DM_MSG_ID") }
editable_messages = { values = $(toml_list "$MSG_EDIT_ID" "$DM_MSG_ID") }
deletable_messages = { values = $(toml_list "$MSG_DELETE_ID") }
users = { values = $(toml_list "$A_ID" "$B_ID" "$C_ID") }
removable_members = { values = $(toml_list "$C_ID") }

[parameters]
"path.id" = { dictionary = "conversations", probability = 0.9 }
"path.msgId" = { dictionary = "editable_messages", probability = 0.9 }
"query.before" = { dictionary = "messages", probability = 0.5 }
"query.after" = { dictionary = "messages", probability = 0.5 }
"body.userId" = { dictionary = "users", probability = 0.6 }
"body.messageId" = { dictionary = "messages", probability = 0.8 }

[[operations]]
include-operation-id = "deleteMessage"
parameters = { "path.id" = { dictionary = "conversations", probability = 0.9 }, "path.msgId" = { dictionary = "deletable_messages", probability = 0.9 } }

[[operations]]
include-operation-id = "removeMember"
parameters = { "path.id" = { dictionary = "conversations", probability = 0.9 }, "path.userId" = { dictionary = "removable_members", probability = 0.9 } }
TOML

mkdir -p "$REPORT_DIR"
cmd=(schemathesis --config-file "$WORK/schemathesis.toml" run "$BASE_URL/openapi.yaml"
     --url "$BASE_URL"
     -H "Authorization: Bearer $TOKEN"
     --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
     --mode all
     --max-examples "$MAX_EXAMPLES"
     --seed "$SEED"
     --generation-database none
     --workers "$WORKERS"
     --request-timeout 10
     --continue-on-failure
     --exclude-operation-id logoutAll
     --exclude-operation-id deactivateAccount
     --report junit --report-dir "$REPORT_DIR"
     --no-color)
echo "+ ${cmd[*]/$TOKEN/<token>}"
rc=0
timeout --kill-after=10 "$RUN_TIMEOUT" "${cmd[@]}" || rc=$?
if [[ $rc -eq 124 ]]; then
    echo "error: schemathesis did not finish within ${RUN_TIMEOUT}s" >&2
fi
exit "$rc"
