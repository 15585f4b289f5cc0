/*
 * context.h - kmstool-dev's encryption context: the --encryption-context
 * KEY=VALUE pairs (as kmstool_enclave_cli 0.4.2 and later take them),
 * bound to a blob as associated data the way KMS binds its
 * EncryptionContext to a ciphertext.
 *
 * Encoding: the pairs sorted by key (bytewise), each as u16 key length,
 * key, u16 value length, value, all big-endian; no pairs, no bytes, so a
 * blob made without a context is a version 1 blob as before. Order on
 * the command line does not matter; every pair must match.
 */
#ifndef KMSTOOL_DEV_CONTEXT_H
#define KMSTOOL_DEV_CONTEXT_H

#include <stddef.h>

#include "common/buf.h"

#define KT_CONTEXT_PAIRS_MAX 64

/* 1 when `arg` is KEY=VALUE with a key of 1..255 bytes. */
int kt_context_arg_valid(const char *arg);
/* 1 when two KEY=VALUE arguments name the same key. */
int kt_context_same_key(const char *a, const char *b);
/* The encoding of `n` KEY=VALUE arguments, appended to out. */
int kt_context_encode(const char *const *pairs, size_t n, struct buf *out);

#endif
