#!/usr/bin/env bash
# Starts or stops a private nginx on a free loopback port (1 worker, static file, no access log).
#   scripts/nginx.sh start DIR [--tls] [--cpu N]  -> prints the port; nginx runs from DIR
#   scripts/nginx.sh stop DIR
# DIR holds the config, the pid file and the document root, so runs never collide.
set -euo pipefail

cmd=${1:?usage: nginx.sh start|stop DIR [--tls] [--cpu N]}
dir=${2:?usage: nginx.sh start|stop DIR}
shift 2 || true
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

free_port() {
  python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

case "$cmd" in
start)
  tls=0; cpu=""
  while (($#)); do
    case "$1" in
      --tls) tls=1 ;;
      --cpu) cpu=$2; shift ;;
      *) echo "nginx.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
  done
  mkdir -p "$dir/html" "$dir/logs" "$dir/tmp"
  chmod 755 "$dir" "$dir/html"  # nginx workers run unprivileged
  printf 'hello from nginx\n' > "$dir/html/index.html"
  head -c 1024 /dev/zero | tr '\0' 'x' > "$dir/html/1k.txt"
  port=$(free_port)
  listen="listen 127.0.0.1:$port backlog=65535"
  ssl_lines=""
  if ((tls)); then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1
    listen="listen 127.0.0.1:$port ssl backlog=65535"
    ssl_lines="ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem;"
  fi
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
${cpu:+worker_cpu_affinity auto;}
worker_rlimit_nofile 20000;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
daemon on;
events { worker_connections 12000; multi_accept on; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server {
    $listen;
    $ssl_lines
    root $dir/html;
    location / { index index.html; }
    location = /echo { return 200 "ok\n"; }
    # An OTLP/HTTP sink for the exporter benchmarks: accepts and discards every export.
    location /v1/ { client_max_body_size 64m; return 200; }
  }
}
CONF
  if [[ -n "$cpu" ]]; then
    taskset -c "$cpu" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" 2>/dev/null
  else
    "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" 2>/dev/null
  fi
  # wait (with a deadline) until the port accepts connections
  for _ in $(seq 1 100); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then echo "$port"; exit 0; fi
    sleep 0.05
  done
  echo "nginx.sh: nginx did not start; see $dir/logs/error.log" >&2
  exit 1
  ;;
stop)
  if [[ -f "$dir/nginx.pid" ]]; then
    pid=$(cat "$dir/nginx.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  ;;
*) echo "usage: nginx.sh start|stop DIR [--tls] [--cpu N]" >&2; exit 2 ;;
esac
