/*
 * broker_wire.h - the messages between the daemon and the KMS broker.
 *
 * Each is one SOCK_SEQPACKET datagram of length-prefixed fields
 * (u32 big-endian length, then bytes). Decoding checks every length
 * against what is left, so neither side trusts the other's framing.
 *
 *   request: ciphertext, region, KMS key id (empty: none; else a key ARN
 *            or key id, checked), context pair count (4 bytes), that many
 *            key and value fields, access key id, secret key, session token
 *   reply:   status (1 byte), reason, plaintext
 */
#ifndef ENCLAVE_KMS_BROKER_WIRE_H
#define ENCLAVE_KMS_BROKER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "enclave/kms/kms.h"

/* A request is bounded by the configure handler's field limits. */
#define BROKER_MESSAGE_MAX (64 * 1024)

int  broker_encode_request(struct buf *out, const struct kms_decrypt_request *req);
/*
 * Decode into `creds` (secret memory) and pointers into `msg` for the rest;
 * `msg` must stay alive while `req` is used.
 */
int  broker_decode_request(uint8_t *msg, size_t n, struct kms_decrypt_request *req,
    struct kms_credentials *creds);

int  broker_encode_reply(struct buf *out, const struct kms_result *res);
int  broker_decode_reply(const uint8_t *msg, size_t n, struct kms_result *res);

#endif
