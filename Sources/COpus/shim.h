// libopus (Debian libopus-dev), found through pkg-config "opus" (cflags -I/usr/include/opus).
#ifndef PARLEY_COPUS_SHIM_H
#define PARLEY_COPUS_SHIM_H
#include <opus.h>
#endif
