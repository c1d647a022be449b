# The benchmark media and binaries, shared by the benchmark scripts. Source after defining
# `log` and `ROOT`.

# make_bench_media DIR: 60 s of ~1 Mbit/s H.264 (854x480, 25 fps, 2 s GOP, CBR 900 kbit/s) +
# 96 kbit/s AAC as DIR/bench.mp4 (moov first), and the same streams remuxed to DIR/bench.flv.
make_bench_media() {
    local dir=$1
    mkdir -p "$dir"
    log "generating 60 s of 1 Mbit/s H.264 + AAC into $dir"
    ffmpeg -hide_banner -loglevel error -y \
        -f lavfi -i "testsrc2=size=854x480:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=44100" -t 60 \
        -c:v libx264 -preset veryfast -pix_fmt yuv420p -b:v 900k -minrate 900k -maxrate 900k -bufsize 900k \
        -x264-params nal-hrd=cbr:force-cfr=1 -g 50 -c:a aac -b:a 96k -movflags +faststart "$dir/bench.mp4"
    ffmpeg -hide_banner -loglevel error -y -i "$dir/bench.mp4" -c copy "$dir/bench.flv"
}

# release_binaries: sets SF_BIN and LB_BIN, building streamfront and sf-loadbench in release
# mode unless both are given.
release_binaries() {
    if [ -z "${SF_BIN:-}" ] || [ -z "${LB_BIN:-}" ]; then
        log "building streamfront and sf-loadbench (release)"
        (cd "$ROOT" && cargo build --release --quiet -p streamfront -p sf-bench)
        local target=${CARGO_TARGET_DIR:-$ROOT/target}
        SF_BIN=${SF_BIN:-$target/release/streamfront}
        LB_BIN=${LB_BIN:-$target/release/sf-loadbench}
    fi
}

# release_server_binaries: sets SF_BIN and S3_BIN (streamfront and the test S3 server,
# sf-s3-server), building both in release mode unless both are given.
release_server_binaries() {
    if [ -z "${SF_BIN:-}" ] || [ -z "${S3_BIN:-}" ]; then
        log "building streamfront and sf-s3-server (release)"
        (cd "$ROOT" && cargo build --release --quiet --locked -p streamfront -p sf-testkit \
            --bin streamfront --bin sf-s3-server)
        local target=${CARGO_TARGET_DIR:-$ROOT/target}
        SF_BIN=${SF_BIN:-$target/release/streamfront}
        S3_BIN=${S3_BIN:-$target/release/sf-s3-server}
    fi
}

# make_tls_cert DIR: a CA (DIR/ca.pem) and a server certificate it signed for localhost and
# 127.0.0.1 (DIR/cert.pem, RSA 2048, key in DIR/key.pem). Clients trust DIR/ca.pem: rustls
# (webpki) refuses a self-signed CA certificate as a server's own.
make_tls_cert() {
    local dir=$1
    mkdir -p "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/key.pem" -out "$dir/cert.csr" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$dir/cert.ext"
    openssl x509 -req -days 2 -set_serial 2 -in "$dir/cert.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
        -extfile "$dir/cert.ext" -out "$dir/cert.pem" 2>/dev/null
}
