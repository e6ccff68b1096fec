// Thin C shims for the ICE module's UDP socket: Swift's Glibc module does not expose
// recvmmsg/sendmmsg/mmsghdr (docs/architecture.md, "Libraries, and why"), so batching goes through these two functions.
#ifndef CICE_SHIMS_H
#define CICE_SHIMS_H

#include <stddef.h>
#include <sys/socket.h>

/// One datagram slot: a buffer and a peer address. The caller owns the memory.
typedef struct cice_datagram {
    void *data;
    unsigned int capacity;       // bytes available at data (receive) - unused for send
    unsigned int length;         // bytes received, or bytes to send
    struct sockaddr_storage address;
    unsigned int address_length; // in/out: bytes of address
} cice_datagram;

/// recvmmsg into up to `count` slots without blocking. Returns the number received, 0 if none
/// is waiting, or -errno on error.
int cice_recv_batch(int fd, cice_datagram *slots, unsigned int count);

/// sendmmsg of `count` slots. Returns the number sent (maybe fewer) or -errno on error.
int cice_send_batch(int fd, cice_datagram *slots, unsigned int count);

/// errno of the calling thread (Swift cannot always read the macro).
int cice_errno(void);

#endif
