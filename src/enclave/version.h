/* version.h - the daemon's version, reported by --version and health. */
#ifndef ENCLAVE_VERSION_H
#define ENCLAVE_VERSION_H

#define ENCLAVED_VERSION "0.1.0"
#define PROTOCOL_VERSION 1

#endif
