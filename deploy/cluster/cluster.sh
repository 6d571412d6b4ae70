#!/usr/bin/env bash
# A local production-shaped cluster from Debian packages (README "Production at scale"):
#   etcd · 2 × PostgreSQL under Patroni (synchronous replication) · HAProxy (writes → leader, reads →
#   replica, web → 2 gunicorn nodes) · pgbouncer (transaction pooling, in front of the writer) · Redis ·
#   2 RQ workers + the RQ cron scheduler · an S3-compatible object store · an SMTP sink for the mail.
#
#   deploy/cluster/cluster.sh up       # (re)creates everything under $CLUSTER_DIR, prints the URLs
#   deploy/cluster/cluster.sh down     # stops what `up` started (by its recorded process groups), nothing else
#   deploy/cluster/cluster.sh status   # Patroni's view and which recorded processes are alive
#   deploy/cluster/cluster.sh env      # the app's environment (source it to run `flask` against the cluster)
#
# Must run as root (it switches every service to its own unprivileged user: postgres, etcd, haproxy, lapor).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
DIR="${CLUSTER_DIR:-/tmp/lapor-cluster}"
# The services' own virtualenv from Debian's python3 (readable by every user, unlike a developer's pyenv).
VENV="${CLUSTER_VENV:-/tmp/lapor-cluster-venv}"
APP_USER="${CLUSTER_APP_USER:-lapor}"

# Ports (this machine's agreed ranges): PostgreSQL 5433-5436, Patroni REST 8008-8009, etcd 2379-2380,
# everything else 5180-5199, Redis 6390.
PG1_PORT=5433 PG2_PORT=5434 HAPROXY_WRITE_PORT=5435 HAPROXY_READ_PORT=5436
REST1_PORT=8008 REST2_PORT=8009 ETCD_CLIENT_PORT=2379 ETCD_PEER_PORT=2380
WEB_PORT=5180 HAPROXY_STATS_PORT=5181 PGBOUNCER_PORT=5182 WEB1_PORT=5183 WEB2_PORT=5184
S3_PORT=5185 SMTP_PORT=5186 REDIS_PORT=6390
PACKAGES=(patroni etcd-server haproxy pgbouncer redis-server postgresql postgresql-client python3-venv curl)

log() { printf '[cluster] %s\n' "$*"; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }

pg_major() {
    # The installed PostgreSQL (the issue asks for 15; Debian 12 ships 15).
    ls /usr/lib/postgresql | sort -n | tail -1
}

ensure_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # The app's locked requirements plus the S3 server and the SMTP sink: requirements-dev.lock (every package
    # pinned and hash-checked; it holds all of requirements.lock).
    local want; want=$(cat "$REPO/requirements.lock" "$REPO/requirements-dev.lock" | sha256sum | cut -c1-16)
    if [[ "$(cat "$VENV/.cluster-installed" 2>/dev/null)" != "$want" ]]; then
        log "virtualenv $VENV (Debian python3)"
        [[ -x "$VENV/bin/python" ]] || /usr/bin/python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q --require-hashes -r "$REPO/requirements-dev.lock" 2>&1 | grep -v '^WARNING: Location' || true
        "$VENV/bin/python" -c "import gunicorn, moto, aiosmtpd, boto3" || die "virtualenv $VENV is incomplete"
        echo "$want" > "$VENV/.cluster-installed"
    fi
    [[ -n "$(ls "$REPO"/translations/*/LC_MESSAGES/messages.mo 2>/dev/null)" ]] || die "run 'make translations' first"
    id -u "$APP_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$APP_USER"
}

# start NAME USER COMMAND...: a new session (its own process group, recorded in run/NAME.pid) as USER.
start() {
    local name=$1 user=$2; shift 2
    local pidfile="$DIR/run/$name.pid" home="$DIR/home/$user"
    mkdir -p "$home" && chown "$user": "$home"   # HOME of the service (gunicorn keeps a control socket there)
    HOME="$home" setsid bash -c 'echo $$ > "$1"; shift; exec "$@"' _ "$pidfile" \
        setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups --inh-caps=-all --bounding-set=-all -- "$@" \
        >>"$DIR/log/$name.log" 2>&1 < /dev/null &
    for _ in $(seq 50); do [[ -s "$pidfile" ]] && break; sleep 0.1; done
}

wait_for() {  # wait_for SECONDS WHAT COMMAND...
    local secs=$1 what=$2; shift 2
    for _ in $(seq $((secs * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    die "timed out after ${secs}s waiting for $what (logs in $DIR/log)"
}

render() {  # render TEMPLATE OUT [more sed arguments]
    local template=$1 out=$2; shift 2
    sed -e "s|@DIR@|$DIR|g" -e "s|@PG_MAJOR@|$(pg_major)|g" \
        -e "s|@PG1_PORT@|$PG1_PORT|g; s|@PG2_PORT@|$PG2_PORT|g; s|@REST1_PORT@|$REST1_PORT|g; s|@REST2_PORT@|$REST2_PORT|g" \
        -e "s|@HAPROXY_WRITE_PORT@|$HAPROXY_WRITE_PORT|g; s|@HAPROXY_READ_PORT@|$HAPROXY_READ_PORT|g" \
        -e "s|@HAPROXY_STATS_PORT@|$HAPROXY_STATS_PORT|g; s|@PGBOUNCER_PORT@|$PGBOUNCER_PORT|g" \
        -e "s|@WEB_PORT@|$WEB_PORT|g; s|@WEB1_PORT@|$WEB1_PORT|g; s|@WEB2_PORT@|$WEB2_PORT|g" \
        -e "s|@SUPERUSER_PASSWORD@|$SUPERUSER_PASSWORD|g; s|@REPLICATION_PASSWORD@|$REPLICATION_PASSWORD|g" \
        -e "s|@REWIND_PASSWORD@|$REWIND_PASSWORD|g" "$@" "$template" > "$out"
}

secret() { [[ -s "$DIR/secrets/$1" ]] || (umask 077; head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$DIR/secrets/$1"); cat "$DIR/secrets/$1"; }

load_secrets() {
    SUPERUSER_PASSWORD=$(secret postgres) REPLICATION_PASSWORD=$(secret replicator) REWIND_PASSWORD=$(secret rewinder)
    APP_PASSWORD=$(secret lapor_app) OWNER_PASSWORD=$(secret lapor_owner) REPORTING_PASSWORD=$(secret lapor_reporting)
    SECRET_KEY=$(secret secret_key)$(secret secret_key)
    # A Fernet key (url-safe base64 of 32 random bytes) for the secrets stored encrypted (TOTP).
    [[ -s "$DIR/secrets/secrets_key" ]] || (umask 077; head -c 32 /dev/urandom | base64 | tr '+/' '-_' > "$DIR/secrets/secrets_key")
    SECRETS_KEY=$(cat "$DIR/secrets/secrets_key")
}

app_env() {
    cat <<EOF
export APP_ENV=production
export SECRET_KEY='$SECRET_KEY'
export SECRETS_KEY='$SECRETS_KEY'
export DATABASE_URL='postgresql://lapor_app:$APP_PASSWORD@127.0.0.1:$PGBOUNCER_PORT/lapor'
export DATABASE_PGBOUNCER=1
export MIGRATION_DATABASE_URL='postgresql://lapor_owner:$OWNER_PASSWORD@127.0.0.1:$HAPROXY_WRITE_PORT/lapor'
export REPORTING_DATABASE_URL='postgresql://lapor_reporting:$REPORTING_PASSWORD@127.0.0.1:$HAPROXY_READ_PORT/lapor'
export REDIS_URL='redis://127.0.0.1:$REDIS_PORT/0'
export STORAGE_URL='s3://lapor-files/cluster'
export STORAGE_S3_ENDPOINT_URL='http://127.0.0.1:$S3_PORT'
export STORAGE_S3_REGION='ap-southeast-3'
export AWS_ACCESS_KEY_ID='lapor-cluster'
export AWS_SECRET_ACCESS_KEY='$(secret s3)'
export MAIL_SERVER=127.0.0.1 MAIL_PORT=$SMTP_PORT MAIL_USE_TLS=0 MAIL_DEFAULT_SENDER=no-reply@cluster-lapor.id
export PUBLIC_BASE_URL='http://localhost:$WEB_PORT'
export SESSION_COOKIE_SECURE=0
export RATELIMIT_ENABLED=0
# A job lost while the database failed over is handed over again after a minute (default 10).
export OUTBOX_STUCK_SECONDS=60
export SENTRY_DSN=
export LOG_LEVEL=WARNING
export UPLOAD_DIR='$DIR/uploads-unused'
export PYTHONPATH='$REPO'
EOF
}

haproxy_up() {  # haproxy_up BACKEND: the servers HAProxy's checks mark UP in BACKEND
    curl -sf "http://127.0.0.1:$HAPROXY_STATS_PORT/;csv" | awk -F, -v b="$1" '$1==b && $2!="BACKEND" && $2!="FRONTEND" && $18=="UP" {print $2}'
}

writer_is_leader() {  # exactly one server behind the write port, and it is the leader
    [[ "$(haproxy_up postgres_write | wc -l)" == 1 && "$(haproxy_up postgres_read | wc -l)" == 1 ]] &&
    [[ "$(PGPASSWORD="$SUPERUSER_PASSWORD" psql -h 127.0.0.1 -p "$HAPROXY_WRITE_PORT" -U postgres -d postgres \
        -Atqc "SELECT pg_is_in_recovery()" 2>/dev/null)" == f ]]
}

patroni_leader() {  # the member name of the leader, from Patroni's REST API
    curl -sf "http://127.0.0.1:$REST1_PORT/cluster" 2>/dev/null \
        | "$VENV/bin/python" -c 'import json,sys; print(next(m["name"] for m in json.load(sys.stdin)["members"] if m["role"]=="leader"))'
}

sync_standby_streaming() {
    curl -sf "http://127.0.0.1:$REST1_PORT/cluster" 2>/dev/null | "$VENV/bin/python" -c '
import json, sys
members = json.load(sys.stdin)["members"]
sys.exit(0 if any(m["role"] == "sync_standby" and m["state"] in ("streaming", "running") for m in members) else 1)'
}

start_node() {  # start_node pg1|pg2|web1|web2: (re)start one node, e.g. after a fault scenario killed it
    case "$1" in
        pg1|pg2) start "$1" postgres /usr/bin/patroni "$DIR/$1/patroni.yml" ;;
        web1|web2)
            local port_var="WEB${1#web}_PORT"
            start "$1" "$APP_USER" env -C "$REPO" bash -c "source '$DIR/app.env'; exec '$VENV/bin/gunicorn' \
                -k gthread --workers 2 --threads 4 --bind 127.0.0.1:${!port_var} --timeout 60 --graceful-timeout 5 \
                wsgi:app" ;;
        *) die "unknown node $1" ;;
    esac
}

down() {
    [[ -d "$DIR/run" ]] || { log "nothing recorded under $DIR/run"; return 0; }
    # Reverse order of start: clients first, the database and etcd last.
    for name in scheduler worker2 worker1 web2 web1 pgbouncer haproxy smtp s3 redis pg2 pg1 etcd; do
        local pidfile="$DIR/run/$name.pid"
        [[ -s "$pidfile" ]] || continue
        local pid; pid=$(cat "$pidfile")
        if kill -0 -- "-$pid" 2>/dev/null; then
            kill -TERM -- "-$pid" 2>/dev/null || true
            for _ in $(seq 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.2; done
            kill -KILL -- "-$pid" 2>/dev/null || true
            log "stopped $name"
        fi
        rm -f "$pidfile"
    done
    # Postgres forked by Patroni runs in Patroni's process group and went with it; a postmaster left
    # behind (Patroni killed hard) is stopped by its own pid file, inside our data dir only.
    for n in pg1 pg2; do
        local pm="$DIR/$n/data/postmaster.pid"
        if [[ -s "$pm" ]] && kill -0 "$(head -1 "$pm")" 2>/dev/null; then
            setpriv --reuid=postgres --regid=postgres --init-groups -- \
                "/usr/lib/postgresql/$(pg_major)/bin/pg_ctl" -D "$DIR/$n/data" stop -m fast >/dev/null || true
        fi
    done
}

up() {
    [[ $EUID -eq 0 ]] || die "run as root (services are switched to their own users)"
    ensure_packages
    down
    # Refuse rather than fight another program for a port (e.g. a distribution's etcd or pgbouncer
    # service started by its package): nothing but what this script recorded is ever stopped.
    local port
    for port in $ETCD_CLIENT_PORT $ETCD_PEER_PORT $PG1_PORT $PG2_PORT $HAPROXY_WRITE_PORT $HAPROXY_READ_PORT \
                $REST1_PORT $REST2_PORT $WEB_PORT $HAPROXY_STATS_PORT $PGBOUNCER_PORT $WEB1_PORT $WEB2_PORT \
                $S3_PORT $SMTP_PORT $REDIS_PORT; do
        if ss -Hltn "sport = :$port" | grep -q .; then
            die "port $port is in use by another program ($(ss -Hltnp "sport = :$port" | grep -o 'users:.*' | head -1))"
        fi
    done
    rm -rf "$DIR"
    mkdir -p "$DIR"/{run,log,secrets,etcd,pg1,pg2,redis,mail,uploads-unused}
    chmod 755 "$DIR"
    chmod 1777 "$DIR/run"   # pid files and sockets of services running as different users
    load_secrets
    chmod 700 "$DIR/secrets"

    log "etcd on :$ETCD_CLIENT_PORT"
    chown etcd: "$DIR/etcd"
    start etcd etcd /usr/bin/etcd --name lapor-etcd --data-dir "$DIR/etcd/data" \
        --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "lapor-etcd=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
        --enable-v2=false
    wait_for 30 etcd curl -sf "http://127.0.0.1:$ETCD_CLIENT_PORT/health"

    log "PostgreSQL $(pg_major) × 2 under Patroni (:$PG1_PORT, :$PG2_PORT; REST :$REST1_PORT, :$REST2_PORT)"
    render "$HERE/templates/patroni.yml.in" "$DIR/pg1/patroni.yml" -e "s|@NAME@|pg1|g; s|@PG_PORT@|$PG1_PORT|g; s|@REST_PORT@|$REST1_PORT|g"
    render "$HERE/templates/patroni.yml.in" "$DIR/pg2/patroni.yml" -e "s|@NAME@|pg2|g; s|@PG_PORT@|$PG2_PORT|g; s|@REST_PORT@|$REST2_PORT|g"
    mkdir -p "$DIR/log/pg1-patroni" "$DIR/log/pg2-patroni"
    chown -R postgres: "$DIR/pg1" "$DIR/pg2" "$DIR/log/pg1-patroni" "$DIR/log/pg2-patroni"
    chmod 700 "$DIR/pg1" "$DIR/pg2"
    start_node pg1
    wait_for 90 "the first leader" curl -sf "http://127.0.0.1:$REST1_PORT/primary"
    start_node pg2
    wait_for 120 "the synchronous replica" sync_standby_streaming

    log "HAProxy: web :$WEB_PORT, writes :$HAPROXY_WRITE_PORT, reads :$HAPROXY_READ_PORT, stats :$HAPROXY_STATS_PORT"
    render "$HERE/templates/haproxy.cfg.in" "$DIR/haproxy.cfg"
    start haproxy haproxy /usr/sbin/haproxy -W -db -f "$DIR/haproxy.cfg"
    # HAProxy counts servers as up until their first checks fail: wait until the write port reaches the leader.
    wait_for 20 "the writer through HAProxy" writer_is_leader

    log "database lapor, roles lapor_owner / lapor_app / lapor_reporting"
    PGPASSWORD="$SUPERUSER_PASSWORD" psql -h 127.0.0.1 -p "$HAPROXY_WRITE_PORT" -U postgres -d postgres -qc "CREATE DATABASE lapor"
    eval "$(app_env)"
    (cd "$REPO" && LAPOR_OWNER_PASSWORD=$OWNER_PASSWORD LAPOR_APP_PASSWORD=$APP_PASSWORD LAPOR_REPORTING_PASSWORD=$REPORTING_PASSWORD \
        "$VENV/bin/flask" --app wsgi db-roles create \
        --admin-url "postgresql://postgres:$SUPERUSER_PASSWORD@127.0.0.1:$HAPROXY_WRITE_PORT/lapor" >/dev/null)

    log "pgbouncer (transaction pooling) on :$PGBOUNCER_PORT"
    render "$HERE/templates/pgbouncer.ini.in" "$DIR/pgbouncer.ini"
    printf '"lapor_app" "%s"\n' "$APP_PASSWORD" > "$DIR/secrets/userlist.txt"
    printf '"lapor_owner" "%s"\n' "$OWNER_PASSWORD" >> "$DIR/secrets/userlist.txt"
    chown postgres: "$DIR/secrets/userlist.txt"   # pgbouncer (as postgres) reads its auth file, nothing else
    chmod 600 "$DIR/secrets/userlist.txt"
    chmod 711 "$DIR/secrets"
    touch "$DIR/log/pgbouncer.log"; chown postgres: "$DIR/log/pgbouncer.log"
    start pgbouncer postgres /usr/sbin/pgbouncer "$DIR/pgbouncer.ini"
    wait_for 20 pgbouncer env PGPASSWORD="$APP_PASSWORD" psql -h 127.0.0.1 -p "$PGBOUNCER_PORT" -U lapor_app -d lapor -Atqc "SELECT 1"

    log "Redis :$REDIS_PORT, S3 (moto server) :$S3_PORT, SMTP sink :$SMTP_PORT"
    chown "$APP_USER": "$DIR/redis" "$DIR/mail" "$DIR/uploads-unused"
    start redis "$APP_USER" /usr/bin/redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DIR/redis" \
        --appendonly yes --save ""
    start s3 "$APP_USER" "$VENV/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT"
    start smtp "$APP_USER" env PYTHONPATH="$REPO" "$VENV/bin/python" -m benchmarks.smtp_sink --port "$SMTP_PORT" --out "$DIR/mail/sink.txt"
    wait_for 20 redis redis-cli -p "$REDIS_PORT" ping
    wait_for 30 "the S3 server" curl -sf "http://127.0.0.1:$S3_PORT/moto-api/"
    "$VENV/bin/python" -c "
import boto3
boto3.client('s3', endpoint_url='$STORAGE_S3_ENDPOINT_URL', region_name='$STORAGE_S3_REGION').create_bucket(
    Bucket='lapor-files', CreateBucketConfiguration={'LocationConstraint': '$STORAGE_S3_REGION'})"

    log "migrations (as lapor_owner, through HAProxy) and the regions"
    (cd "$REPO" && "$VENV/bin/flask" --app wsgi db upgrade >/dev/null 2>&1 && "$VENV/bin/flask" --app wsgi tenants sync >/dev/null)

    log "gunicorn web nodes :$WEB1_PORT, :$WEB2_PORT; RQ workers × 2; scheduler"
    app_env > "$DIR/app.env"
    chmod 600 "$DIR/app.env"
    chown "$APP_USER": "$DIR/app.env"
    for n in 1 2; do
        start_node "web$n"
        start "worker$n" "$APP_USER" env -C "$REPO" bash -c "source '$DIR/app.env'; exec '$VENV/bin/rq' worker \
            -w app.jobs.worker.AppWorker --with-scheduler --url \"\$REDIS_URL\" notifications default periodic"
    done
    start scheduler "$APP_USER" env -C "$REPO" bash -c "source '$DIR/app.env'; exec '$VENV/bin/rq' cron \
        --url \"\$REDIS_URL\" app/jobs/cron.py"
    wait_for 60 "web node 1" curl -sf "http://127.0.0.1:$WEB1_PORT/readyz"
    wait_for 60 "web node 2" curl -sf "http://127.0.0.1:$WEB2_PORT/readyz"
    wait_for 20 "the load balancer" curl -sf "http://127.0.0.1:$WEB_PORT/readyz"
    log "up: http://127.0.0.1:$WEB_PORT/ (leader: $(patroni_leader)); 'make cluster-down' stops it; data in $DIR"
}

status() {
    curl -s "http://127.0.0.1:$REST1_PORT/cluster" || curl -s "http://127.0.0.1:$REST2_PORT/cluster" || true
    echo
    for f in "$DIR"/run/*.pid; do
        [[ -e "$f" ]] || continue
        local pid; pid=$(cat "$f")
        if kill -0 -- "-$pid" 2>/dev/null; then echo "$(basename "$f" .pid): running ($pid)"; else echo "$(basename "$f" .pid): stopped"; fi
    done
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    env) load_secrets; app_env ;;
    start-node) [[ -n "${2:-}" ]] || die "start-node pg1|pg2|web1|web2"; start_node "$2" ;;
    *) echo "usage: $0 up|down|status|env|start-node NAME" >&2; exit 2 ;;
esac
