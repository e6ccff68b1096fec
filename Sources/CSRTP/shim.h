// libsrtp2 (Debian libsrtp2-dev, or a build from scripts/build-libsrtp-openssl.sh), found
// through pkg-config "libsrtp2".
#ifndef PARLEY_CSRTP_SHIM_H
#define PARLEY_CSRTP_SHIM_H
#include <srtp2/srtp.h>
#endif
