#!/usr/bin/busybox sh
# shell.sh - a developer's shell in the box (make box-shell, docs/box.md).
#
# enclaved is already running with the image's CMD, listening on vsock
# port 5000; enclavectl here reaches it at vsock:1:5000 by default. The box
# powers off when this shell exits.
/usr/bin/busybox mkdir -p /box/bin
/usr/bin/busybox --install -s /box/bin
export PATH=/box/bin:/usr/bin HOME=/tmp PS1='box# ' ENCLAVE_CID=1 ENCLAVE_PORT=5000
cd /tmp || exit 1
cat <<'BANNER'
The enclave box: enclaved runs with the EIF's /cmd, its root /rootfs
(the application ramdisk); its log in /run/enclaved.log. Try:
  enclavectl ping                      # over vsock:1:5000
  kmstool_enclave_cli genkey --key-id dev --key-spec AES-256 \
      --region ap-southeast-1 --proxy-port 8000 --aws-access-key-id a \
      --aws-secret-access-key b --aws-session-token c
  /box/flow.sh                         # the whole test flow
exit (or Ctrl-D) powers the box off.
BANNER
exec sh -i
