# stub_nginx.sh - sourced by the benchmarks: nginx on 127.0.0.1 answering
# every request 200 '{}' (a KMS success), so that a benchmark times the
# client and not a server. Keep-alive lasts for the whole benchmark.
#
#   . tests/bench/stub_nginx.sh
#   stub_nginx_start NGINX PREFIX   sets stub_port and stub_pid; waits for
#                                   the port (up to 4 s)
#   stub_nginx_stop                 TERM by pid, then waits
# PREFIX is a scratch folder the caller owns (and removes).

stub_port=
stub_pid=

stub_nginx_start() {
  local nginx=$1 prefix=$2 py=/usr/bin/python3
  stub_port=$("$py" -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$prefix/conf" "$prefix/logs" "$prefix/tmp"
  cat >"$prefix/conf/nginx.conf" <<CONF
worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path $prefix/tmp;
  proxy_temp_path $prefix/tmp;
  fastcgi_temp_path $prefix/tmp;
  uwsgi_temp_path $prefix/tmp;
  scgi_temp_path $prefix/tmp;
  server {
    listen 127.0.0.1:$stub_port;
    default_type application/x-amz-json-1.1;
    location = / { return 200 '{}'; }
  }
}
CONF
  "$nginx" -p "$prefix/" -c conf/nginx.conf -e logs/error.log \
    -g 'daemon off;' &
  stub_pid=$!
  for _ in $(seq 200); do
    if "$py" -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.2)' "$stub_port" \
         2>/dev/null; then return 0; fi
    sleep 0.02
  done
  echo "stub nginx did not listen on 127.0.0.1:$stub_port" >&2
  return 1
}

stub_nginx_stop() {
  if [ -n "$stub_pid" ]; then
    kill -TERM "$stub_pid" 2>/dev/null || true
    wait "$stub_pid" 2>/dev/null || true
    stub_pid=
  fi
}
