#!/usr/bin/env bash
# make demo: the whole system on this machine, with kmstool-dev standing in
# for AWS KMS. Three parties, each seeing only what it may:
#   data owner  - holds the TSK plaintext; seals inputs, opens results
#   host        - holds only ciphertext and the encrypted TSK; talks to
#                 the enclave with enclavectl
#   enclave     - enclaved: gets the TSK from "KMS", processes, re-encrypts
set -euo pipefail

BUILD=$(cd "${1:-build}" && pwd)

# Port 5000 unless DEMO_PORT says otherwise; when 5000 is taken (another
# demo, a daemon under test) and DEMO_PORT was not given, a free one.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${DEMO_PORT:-5000}
if [ -z "${DEMO_PORT:-}" ] && port_taken "$PORT"; then
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	echo "demo: 127.0.0.1:5000 is in use; using port $PORT (DEMO_PORT= to choose)"
fi
ENDPOINT="tcp:127.0.0.1:$PORT"
work=$(mktemp -d)
umask 077
daemon_pid=""

cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Development credentials: kmstool-dev accepts any; real ones come from IAM.
export AWS_ACCESS_KEY_ID=AKIDEXAMPLEDEMO
export AWS_SECRET_ACCESS_KEY=demoSecretAccessKey0
export AWS_SESSION_TOKEN=demoSessionToken0

say "data owner: KMS generates a TSK (kmstool-dev genkey, standing in for aws kms generate-data-key)"
"$BUILD/kmstool-dev" genkey --key-id alias/confidential-enclave-demo \
	--key-spec AES-256 --region ap-southeast-1 --proxy-port 8000 \
	--aws-access-key-id "$AWS_ACCESS_KEY_ID" \
	--aws-secret-access-key "$AWS_SECRET_ACCESS_KEY" \
	--aws-session-token "$AWS_SESSION_TOKEN" >"$work/genkey.out"
sed -n 's/^CIPHERTEXT: //p' "$work/genkey.out" >"$work/encrypted-tsk.b64"
sed -n 's/^PLAINTEXT: //p' "$work/genkey.out" >"$work/owner-tsk.b64"
rm "$work/genkey.out"
echo "encrypted TSK (what the host holds): $(cut -c1-48 "$work/encrypted-tsk.b64")..."

say "enclave: enclaved starts on $ENDPOINT with kmstool-dev"
"$BUILD/enclaved" --listen "$ENDPOINT" --kmstool "$BUILD/kmstool-dev" \
	2>"$work/enclaved.log" &
daemon_pid=$!
for _ in $(seq 1 50); do
	grep -q "listening on $ENDPOINT" "$work/enclaved.log" && break
	kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/enclaved.log"; exit 1; }
	sleep 0.1
done
grep -q "listening on $ENDPOINT" "$work/enclaved.log" || {
	echo "enclaved did not start"; cat "$work/enclaved.log"; exit 1; }

say "host: ping, configure (credentials from the environment), health"
"$BUILD/enclavectl" --enclave "$ENDPOINT" ping
"$BUILD/enclavectl" --enclave "$ENDPOINT" configure --tsk "$work/encrypted-tsk.b64"
"$BUILD/enclavectl" --enclave "$ENDPOINT" health

say "data owner: seal a record under the TSK, bound to the workflow by aad"
printf '{"patient":"P-1042","glucose_mg_dl":97}' >"$work/record.json"
"$BUILD/enclavectl" seal --key-file "$work/owner-tsk.b64" --aad workflow-42 \
	--in "$work/record.json" --out "$work/input.hex"
echo "ciphertext handed to the host: $(cut -c1-64 "$work/input.hex")..."

say "host: process (the host sees only hex)"
"$BUILD/enclavectl" --enclave "$ENDPOINT" process --aad workflow-42 \
	--in "$work/input.hex" --out "$work/result.hex"
echo "result from the enclave: $(cut -c1-64 "$work/result.hex")..."

say "data owner: open the result"
"$BUILD/enclavectl" open --key-file "$work/owner-tsk.b64" --aad workflow-42 \
	--in "$work/result.hex"
echo

say "the same ciphertext under another workflow's aad is refused"
if "$BUILD/enclavectl" --enclave "$ENDPOINT" process --aad workflow-43 \
	--in "$work/input.hex" >/dev/null; then
	echo "unexpected: wrong aad accepted"; exit 1
fi

say "enclave log (no key, credential or plaintext in it)"
cat "$work/enclaved.log"
for secret in "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$(cat "$work/owner-tsk.b64")" P-1042; do
	if grep -qF -- "$secret" "$work/enclaved.log"; then
		echo "SECRET LEAKED INTO THE LOG"; exit 1
	fi
done
say "demo finished: OK"
