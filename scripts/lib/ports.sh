# Loopback port helpers shared by the benchmark scripts. Source after defining `log`.

EPHEMERAL_LOW=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)

# Whether something listens on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port below the ephemeral range (so no client connection holds it) that no socket uses.
free_port() {
    local p hex
    for _ in $(seq 200); do
        p=$((10000 + RANDOM % (EPHEMERAL_LOW - 10000)))
        hex=$(printf ':%04X' "$p")
        if ! awk -v h="$hex" 'NR > 1 && substr($2, length($2) - 4) == h {f = 1} END {exit !f}' \
            /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
            echo "$p"; return
        fi
    done
    log "no free port found"; exit 1
}

# Waits up to 10 s for PORT to listen, giving up early if process PID exits.
wait_port() {
    local port=$1 pid=$2
    for _ in $(seq 100); do
        port_open "$port" && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    log "nothing listens on 127.0.0.1:$port"; return 1
}
