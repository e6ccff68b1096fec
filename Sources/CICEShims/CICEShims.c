#define _GNU_SOURCE
#include "CICEShims.h"
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#define CICE_MAX_BATCH 64

int cice_recv_batch(int fd, cice_datagram *slots, unsigned int count) {
    struct mmsghdr msgs[CICE_MAX_BATCH];
    struct iovec iov[CICE_MAX_BATCH];
    if (count > CICE_MAX_BATCH) count = CICE_MAX_BATCH;
    memset(msgs, 0, sizeof(struct mmsghdr) * count);
    for (unsigned int i = 0; i < count; i++) {
        iov[i].iov_base = slots[i].data;
        iov[i].iov_len = slots[i].capacity;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &slots[i].address;
        msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    }
    int n = recvmmsg(fd, msgs, count, MSG_DONTWAIT, NULL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -errno;
    }
    for (int i = 0; i < n; i++) {
        // A truncated datagram is longer than any STUN/DTLS/SRTP packet we accept: mark it empty.
        slots[i].length = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 0 : msgs[i].msg_len;
        slots[i].address_length = msgs[i].msg_hdr.msg_namelen;
    }
    return n;
}

int cice_send_batch(int fd, cice_datagram *slots, unsigned int count) {
    struct mmsghdr msgs[CICE_MAX_BATCH];
    struct iovec iov[CICE_MAX_BATCH];
    if (count > CICE_MAX_BATCH) count = CICE_MAX_BATCH;
    memset(msgs, 0, sizeof(struct mmsghdr) * count);
    for (unsigned int i = 0; i < count; i++) {
        iov[i].iov_base = slots[i].data;
        iov[i].iov_len = slots[i].length;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &slots[i].address;
        msgs[i].msg_hdr.msg_namelen = slots[i].address_length;
    }
    int n = sendmmsg(fd, msgs, count, MSG_DONTWAIT);
    if (n < 0) return -errno;
    return n;
}

int cice_errno(void) { return errno; }
