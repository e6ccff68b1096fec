#!/bin/sh
# Copies the certificate Caddy obtained for DOMAIN to where coturn can read it (turn.crt,
# turn.key) and makes coturn use it. Run by infra/systemd/coturn-certs.service (daily, from
# coturn-certs.timer); installed as /usr/local/sbin/parley-coturn-certs (docs/self-hosting.md,
# "coturn" and "Containers instead").
#
# Caddy's storage is readable by its own user only, so coturn cannot read the files in place.
# Caddy renews about 30 days before expiry; this copy picks the renewed files up the next day.
# Nothing changes (and coturn is not disturbed) while the copy is current.
#
# Environment (the defaults suit Debian's caddy and coturn packages):
#   DOMAIN          the site's name, as in the Caddyfile (required)
#   CADDY_CERTS     Caddy's certificates folder, holding one folder per ACME issuer
#                   (Let's Encrypt, or ZeroSSL when Caddy fell back to it); the newest
#                   certificate for DOMAIN among them is used
#   COTURN_CERTS    where coturn reads turn.crt and turn.key (turnserver.conf cert=, pkey=)
#   COTURN_GROUP    the group coturn runs as (name or number): it may read the key, no one else
#   COTURN_RELOAD   makes a running coturn load the new files (SIGUSR2 reloads its TLS
#                   certificates without dropping relayed calls)
#   COTURN_RESTART  used instead after the first copy: coturn started without a certificate
#                   has no TLS listener, and SIGUSR2 does not open one
set -eu

: "${DOMAIN:?set DOMAIN to the site name (the Caddyfile's PARLEY_DOMAIN)}"
CADDY_CERTS=${CADDY_CERTS:-/var/lib/caddy/.local/share/caddy/certificates}
COTURN_CERTS=${COTURN_CERTS:-/etc/coturn/certs}
COTURN_GROUP=${COTURN_GROUP:-turnserver}
COTURN_RELOAD=${COTURN_RELOAD:-systemctl kill --signal=SIGUSR2 coturn.service}
# --no-block: coturn-certs.service is ordered before coturn.service, so waiting for the
# restart job from inside it would wait for itself.
COTURN_RESTART=${COTURN_RESTART:-systemctl --no-block try-restart coturn.service}

crt=$(ls -t "$CADDY_CERTS"/*/"$DOMAIN"/"$DOMAIN".crt 2>/dev/null | head -n 1 || true)
if [ -z "$crt" ]; then
    echo "no certificate for $DOMAIN under $CADDY_CERTS (has Caddy obtained it yet?)" >&2
    exit 1
fi
key=$(dirname "$crt")/$DOMAIN.key
[ -r "$key" ] || { echo "$crt has no private key beside it ($key)" >&2; exit 1; }

install -d -m 0750 -g "$COTURN_GROUP" "$COTURN_CERTS"
if cmp -s "$crt" "$COTURN_CERTS/turn.crt" && cmp -s "$key" "$COTURN_CERTS/turn.key"; then
    exit 0
fi
first=yes
[ -e "$COTURN_CERTS/turn.crt" ] && first=no
# New files beside the old ones, then renamed over them: coturn never reads half a file.
install -m 0644 -g "$COTURN_GROUP" "$crt" "$COTURN_CERTS/turn.crt.new"
install -m 0640 -g "$COTURN_GROUP" "$key" "$COTURN_CERTS/turn.key.new"
mv -f "$COTURN_CERTS/turn.key.new" "$COTURN_CERTS/turn.key"
mv -f "$COTURN_CERTS/turn.crt.new" "$COTURN_CERTS/turn.crt"
echo "copied $crt to $COTURN_CERTS"

# A coturn that is not running reads the files when it starts; that is not an error here.
if [ "$first" = yes ]; then
    sh -c "$COTURN_RESTART" || echo "warning: '$COTURN_RESTART' failed; restart coturn once" >&2
else
    sh -c "$COTURN_RELOAD" || echo "warning: '$COTURN_RELOAD' failed; coturn keeps the old certificate" >&2
fi
