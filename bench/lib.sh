# Helpers the server benchmarks share (sourced: . bench/lib.sh, from the repository's folder).
# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_port PID PORT: until something listens on PORT (10 s), or PID has exited.
wait_port() {
  for _ in $(seq 200); do
    if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1', $2)))" 2>/dev/null; then return 0; fi
    kill -0 "$1" 2>/dev/null || { echo "process $1 died before it listened on port $2" >&2; return 1; }
    sleep 0.05
  done
  echo "nothing listens on port $2" >&2; return 1
}
# cpu_us PID...: their user + system time so far, in microseconds, summed (/proc/PID/stat).
cpu_us() {
  local t=0 p
  for p in "$@"; do t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat") )); done
  echo $(( t * 1000000 / $(getconf CLK_TCK) ))
}
