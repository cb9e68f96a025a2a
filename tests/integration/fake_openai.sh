# shellcheck shell=bash
# Starting the loopback OpenAI-compatible server (fake_openai.py) from a
# test script (sourced, never run).
#   start_fake_openai FAKE_OPENAI_PY WORK [SERVER ARGS...]
# starts it with its request log in WORK/requests.jsonl and sets srv_pid
# and port; false (with WORK/srv.out holding why) when it did not start.
# Its stdin is this shell's fd 9: it ends when the test does, whatever way.
start_fake_openai() {
    local fake=$1 dir=$2
    shift 2
    mkfifo "$dir/srv.in"
    python3 "$fake" --log "$dir/requests.jsonl" "$@" <"$dir/srv.in" >"$dir/srv.out" 2>&1 &
    srv_pid=$!
    exec 9>"$dir/srv.in"
    for _ in $(seq 1 50); do grep -q '^PORT ' "$dir/srv.out" && break; sleep 0.1; done
    port=$(awk '/^PORT /{print $2; exit}' "$dir/srv.out")
    [ -n "$port" ]
}
