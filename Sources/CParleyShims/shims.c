#include "CParleyShims.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int parley_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
int parley_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
long parley_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
int parley_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}
long parley_DTLS_set_link_mtu(SSL *ssl, long mtu) { return DTLS_set_link_mtu(ssl, mtu); }

int parley_DTLSv1_get_timeout(SSL *ssl, int64_t *microseconds) {
    struct timeval tv = {0, 0};
    int running = (int)DTLSv1_get_timeout(ssl, &tv);
    *microseconds = running ? (int64_t)tv.tv_sec * 1000000 + (int64_t)tv.tv_usec : 0;
    return running;
}
int parley_DTLSv1_handle_timeout(SSL *ssl) { return (int)DTLSv1_handle_timeout(ssl); }

uint64_t parley_SSL_OP_NO_QUERY_MTU(void) { return SSL_OP_NO_QUERY_MTU; }
uint64_t parley_SSL_OP_NO_TICKET(void) { return SSL_OP_NO_TICKET; }
uint64_t parley_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
uint64_t parley_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }

void parley_BIO_set_retry_read(BIO *bio) { BIO_set_retry_read(bio); }
void parley_BIO_clear_retry_flags(BIO *bio) { BIO_clear_retry_flags(bio); }
long parley_BIO_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

int parley_malloc_trim(size_t pad) {
#if defined(__GLIBC__)
    return malloc_trim(pad);
#else
    (void)pad;
    return 0;
#endif
}
