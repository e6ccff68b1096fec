// One-line C shims for the OpenSSL macros that Swift cannot import (function-like
// macros, variadic functions and bit constants built by macros), and the one glibc function
// Swift's Glibc module leaves out that Parley needs. Nothing else belongs here.
#ifndef PARLEY_C_SHIMS_H
#define PARLEY_C_SHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include <openssl/bio.h>

// MARK: OpenSSL SSL_CTX / SSL macros

int parley_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
int parley_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
long parley_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode);
int parley_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list);
/// `DTLS_set_link_mtu`: the largest datagram OpenSSL may write (RFC 6347 §4.1.1).
long parley_DTLS_set_link_mtu(SSL *ssl, long mtu);
/// `DTLSv1_get_timeout`: 1 and the time left in microseconds when a retransmission timer runs, else 0.
int parley_DTLSv1_get_timeout(SSL *ssl, int64_t *microseconds);
/// `DTLSv1_handle_timeout`: 1 when the timer had expired and the flight was re-sent, 0 when not
/// yet due, -1 on failure (too many timeouts).
int parley_DTLSv1_handle_timeout(SSL *ssl);

uint64_t parley_SSL_OP_NO_QUERY_MTU(void);
uint64_t parley_SSL_OP_NO_TICKET(void);
uint64_t parley_SSL_OP_CIPHER_SERVER_PREFERENCE(void);
uint64_t parley_SSL_OP_NO_RENEGOTIATION(void);

// MARK: OpenSSL BIO macros

void parley_BIO_set_retry_read(BIO *bio);
void parley_BIO_clear_retry_flags(BIO *bio);
/// `BIO_get_mem_data`: the bytes held by a memory BIO.
long parley_BIO_get_mem_data(BIO *bio, char **data);

// MARK: glibc

/// `malloc_trim` (malloc.h): returns free memory of every malloc arena to the system. 0 where
/// it does not exist.
int parley_malloc_trim(size_t pad);

#endif
